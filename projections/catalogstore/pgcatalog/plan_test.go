package pgcatalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// Sizes of the skewed catalog: skewOthers resources first, then skewComponents
// components, so every component's eid is above every resource's.
const (
	skewOthers     = 12000
	skewComponents = 8000
	// skewMaxRead bounds the rows a page of one kind may read from the
	// entities and search tables together. Each page below needs a few hundred
	// (its components, and one search row per condition for each); a plan
	// that walks the catalog in page order and drops the resources as it goes,
	// or merges search rows from their start, reads every resource first.
	skewMaxRead = 2000
)

// skewedResources makes n resources that share the component filters' search
// values (spec.type service, spec.lifecycle production) and whose names sort
// before every component's, at positions 1 to n.
func skewedResources(t testing.TB, n int) []event.Envelope {
	t.Helper()
	return skewedOfKind(t, "Resource", "aaa-resource-%d", 0, n)
}

// skewedOfKind makes n entities of kind named by the format name, with
// spec.type service, spec.lifecycle production and uids kind-uid-i, at
// positions start+1 to start+n.
func skewedOfKind(t testing.TB, kind, name string, start int64, n int) []event.Envelope {
	t.Helper()
	out := make([]event.Envelope, 0, n)
	for i := range n {
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1",
			"kind":       kind,
			"metadata":   map[string]any{"name": fmt.Sprintf(name, i)},
			"spec":       map[string]any{"type": "service", "lifecycle": "production", "owner": "team-0", "definition": "openapi: 3.0.0"},
		})
		if err != nil {
			t.Fatal(err)
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("%s-uid-%d", strings.ToLower(kind), i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
			LocationID: "L1", ManagedBy: "file:/catalog/" + strings.ToLower(kind) + ".yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = start + int64(i) + 1
		out = append(out, ev)
	}
	return out
}

// statementReads runs stmt under EXPLAIN ANALYZE and returns the rows its
// scans of entities and search read (pgtest.RowsRead).
func statementReads(t *testing.T, s *pgcatalog.Store, stmt string, args []any) (float64, []string) {
	t.Helper()
	return pgtest.RowsRead(t, s.Pool(), stmt, args, "entities", "search")
}

// A page of one kind reads the rows of that kind only, however the kinds
// lie in the catalog's creation order and names. Right after a first
// ingestion (tables analyzed, not yet vacuumed) the planner once read every
// other entity in eid order to find the components created after them
// (39,364 rows of 100,000, 100 ms); once vacuumed, it merged the search rows
// of every kind from their start. Both states are checked.
func TestAPageOfOneKindReadsOnlyThatKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, s, skewedResources(t, skewOthers), 2000)
	storetest.ApplyInBatches(t, s, storetest.Components(t, skewOthers, skewComponents), 2000)
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE entities, search, search_keys, relations`); err != nil {
		t.Fatal(err)
	}

	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	// Component i is a production service when i%3 == 0 (storetest.ComponentBody).
	var services []int
	for i := 0; i < skewComponents; i += 3 {
		services = append(services, i)
	}
	keysOf := func(is []int) []string {
		out := make([]string, len(is))
		for j, i := range is {
			out[j] = fmt.Sprintf("component:default/service-%d", i)
		}
		return out
	}
	byName := keysOf(services)
	slices.Sort(byName) // names differ only after "service-": key order is name order
	lastByName := slices.Clone(byName[len(byName)-20:])
	slices.Reverse(lastByName)
	cases := []pageCase{
		{"filtered list in creation order", catalogstore.PageQuery{Limit: 50,
			Filter: catalogstore.Filter{{cond("kind", "Component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}}},
			keysOf(services[:50])},
		{"by name", catalogstore.PageQuery{Limit: 20, Order: []catalogstore.Order{{Field: "metadata.name"}},
			Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.lifecycle", "production")}}},
			byName[:20]},
		{"by name, descending", catalogstore.PageQuery{Limit: 20, Order: []catalogstore.Order{{Field: "metadata.name", Desc: true}},
			Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.lifecycle", "production")}}},
			lastByName},
		{"the next page in creation order", catalogstore.PageQuery{Limit: 50,
			After:  &catalogstore.Keyset{Values: []string{fmt.Sprint(skewOthers + 1 + services[49])}, Key: keysOf(services[49:50])[0]},
			Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}}},
			keysOf(services[50:100])},
		{"the previous page in creation order", catalogstore.PageQuery{Limit: 50,
			Before: &catalogstore.Keyset{Values: []string{fmt.Sprint(skewOthers + 1 + services[50])}, Key: keysOf(services[50:51])[0]},
			Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}}},
			keysOf(services[:50])},
	}
	checkPagesRead(t, s, cases, skewOthers+skewComponents)
}

// pageCase is a page a plan test reads, and the entities it must return.
type pageCase struct {
	name string
	q    catalogstore.PageQuery
	want []string
}

// checkPagesRead reads each case's page from s, of a catalog of total
// entities, first as it is (analyzed, not vacuumed) and then vacuumed, and
// requires its answer and that its statement read at most skewMaxRead rows
// of entities and search.
func checkPagesRead(t *testing.T, s *pgcatalog.Store, cases []pageCase, total int) {
	t.Helper()
	ctx := context.Background()
	for _, state := range []struct{ name, prepare string }{
		{"analyzed, not vacuumed", ``},
		{"vacuumed", `VACUUM (ANALYZE) entities, search, search_keys, relations`},
	} {
		if state.prepare != "" {
			pgtest.Vacuum(t, s.Pool(), state.prepare, "entities", "search")
		}
		for _, c := range cases {
			t.Run(state.name+"/"+c.name, func(t *testing.T) {
				page, err := s.Query(ctx, c.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, it := range page.Items {
					got = append(got, it.Key)
				}
				if !slices.Equal(got, c.want) {
					t.Fatalf("page\n got %v\nwant %v", got, c.want)
				}
				stmt, args := pgcatalog.PageStatement(s, c.q)
				read, scans := statementReads(t, s, stmt, args)
				t.Logf("%.0f rows read: %v", read, scans)
				if read > skewMaxRead {
					t.Errorf("the page read %.0f rows of entities and search (at most %d expected of a catalog of %d):\n%v\n%s",
						read, skewMaxRead, total, scans, pgtest.ExplainText(t, s.Pool(), stmt, args))
				}
			})
		}
	}
}
