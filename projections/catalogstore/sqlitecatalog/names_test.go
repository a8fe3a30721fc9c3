package sqlitecatalog_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// TestNameSearchAnswersAsLike checks the search in names and titles, which
// reads the names trigram index, against the LIKE it replaces, run on the
// same file: after inserts, a retitle, a rename and a removal, for terms of
// every length, with LIKE's wildcards, quotes, spaces and capitals.
func TestNameSearchAnswersAsLike(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := storetest.OpenSQLiteFile(t)
	evs := storetest.Components(t, 0, 120)
	pos := int64(len(evs))
	body := func(kind, name string, meta, spec map[string]any) map[string]any {
		m := map[string]any{"name": name}
		for k, v := range meta {
			m[k] = v
		}
		b := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": m}
		if spec != nil {
			b["spec"] = spec
		}
		return b
	}
	add := func(b map[string]any) {
		t.Helper()
		pos++
		e, err := catalog.NewEntity(b)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-n%s", e.Ref().Key()), Hash: catalog.HashJSON(raw), Entity: json.RawMessage(raw),
		}, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = pos
		evs = append(evs, ev)
	}
	remove := func(ref, uid string) {
		t.Helper()
		pos++
		ev, err := event.New(event.TypeEntityRemoved, strings.ToLower(ref), event.EntityRemoved{Ref: ref, UID: uid, Reason: "deleted"}, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = pos
		evs = append(evs, ev)
	}
	add(body("Component", "orders-api", map[string]any{"title": `Orders "v2" API 100%_done`}, map[string]any{"type": "service", "lifecycle": "production", "owner": "team-0"}))
	add(body("User", "ada", nil, map[string]any{"profile": map[string]any{"displayName": "Ada Lovelace"}, "memberOf": []any{}}))
	add(body("System", "payments", map[string]any{"title": "Payments Platform"}, map[string]any{"owner": "team-0"}))
	add(body("System", "ledger", map[string]any{"title": "General Ledger"}, map[string]any{"owner": "team-0"}))
	storetest.ApplyInBatches(t, s, evs, 7)
	evs = evs[:0]
	// A retitle, a rename (a new entity and the old one removed) and a removal.
	add(body("System", "payments", map[string]any{"title": "Billing Platform"}, map[string]any{"owner": "team-0"}))
	add(body("System", "general-ledger", map[string]any{"title": "General Ledger"}, map[string]any{"owner": "team-0"}))
	remove("system:default/ledger", "uid-nsystem:default/ledger")
	remove("component:default/service-7", "uid-7")
	storetest.ApplyInBatches(t, s, evs, 1)

	db, err := sql.Open("sqlite", sqlitekit.DSN(filepath.Clean(path), "busy_timeout(10000)", "query_only(ON)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fields := []string{"metadata.name", "metadata.title", "spec.profile.displayname"}
	like := func(term string) []string {
		t.Helper()
		pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(strings.ToLower(term))) + "%"
		rows, err := db.QueryContext(ctx, `SELECT e.key FROM entities e WHERE e.eid IN (SELECT eid FROM search
			WHERE kid IN (SELECT id FROM search_keys WHERE key IN (?, ?, ?)) AND value LIKE ? ESCAPE '\')
			OR e.name LIKE ? ESCAPE '\' ORDER BY e.key`, fields[0], fields[1], fields[2], pat, pat)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
		return out
	}
	terms := []string{"se", "service", "service-1", "ice-11", "SERVICE-119", "service-7", "vice-7", "ledger",
		"general ledger", "billing", "payments plat", "platform", "ada lov", "LOVELACE", `"v2"`, `s "v`, "100%_",
		"0%_d", "%_d", "e-1%", "zzz", "  orders  ", "s\nb", "ger"}
	for _, field := range [][]string{fields, {"metadata.title"}, {"metadata.name", "spec.profile.displayName"}} {
		for _, term := range terms {
			want := like(term)
			if len(field) != len(fields) {
				want = nil // checked on all three fields only; the others must agree with their own subset below
			}
			page, err := s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: term, Fields: field}, CountTotal: true})
			if err != nil {
				t.Fatalf("%q in %v: %v", term, field, err)
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.Key)
			}
			slices.Sort(got)
			if page.TotalItems != len(got) {
				t.Errorf("%q in %v: total %d, %d items", term, field, page.TotalItems, len(got))
			}
			if want != nil && !slices.Equal(got, want) {
				t.Errorf("%q in %v: got %v, LIKE finds %v", term, field, got, want)
			}
			// A page sorted by name of a kind finds the same, in order.
			paged, err := s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: term, Fields: field},
				Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"component", "system"}}}},
				Order:  []catalogstore.Order{{Field: "metadata.name"}}, Limit: 5, CountTotal: true})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, k := range got {
				if strings.HasPrefix(k, "component:") || strings.HasPrefix(k, "system:") {
					kinds = append(kinds, k)
				}
			}
			if paged.TotalItems != len(kinds) {
				t.Errorf("%q in %v among components and systems: total %d, want %d", term, field, paged.TotalItems, len(kinds))
			}
			slices.SortFunc(kinds, func(a, b string) int {
				_, na, _ := strings.Cut(a, "/")
				_, nb, _ := strings.Cut(b, "/")
				if c := strings.Compare(na, nb); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			})
			var pageKeys []string
			for _, it := range paged.Items {
				pageKeys = append(pageKeys, it.Key)
			}
			if want := kinds[:min(5, len(kinds))]; !slices.Equal(pageKeys, want) && len(want) > 0 {
				t.Errorf("%q in %v among components and systems by name: page %v, want %v", term, field, pageKeys, want)
			} else if len(want) == 0 && len(pageKeys) > 0 {
				t.Errorf("%q in %v among components and systems: page %v, want none", term, field, pageKeys)
			}
		}
	}
	for term, want := range map[string][]string{
		"billing": {"system:default/payments"}, "payments plat": nil, "ledger": {"system:default/general-ledger"},
		"ada lov": {"user:default/ada"}, `"v2"`: {"component:default/orders-api"}, "0%_d": {"component:default/orders-api"},
		"service-7": {"component:default/service-70", "component:default/service-71", "component:default/service-72",
			"component:default/service-73", "component:default/service-74", "component:default/service-75", "component:default/service-76",
			"component:default/service-77", "component:default/service-78", "component:default/service-79"},
	} {
		if got := like(term); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("the fixture changed: LIKE %q finds %v, want %v", term, got, want)
		}
	}
}
