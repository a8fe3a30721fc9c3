package asof_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/pghist"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// genHistory returns n events of a random catalog life: components, APIs,
// systems and groups, with owners, systems, dependencies, provided APIs and
// tags in varied spellings, edited, upserted unchanged, removed (sometimes
// with a stale uid) and re-created with new uids; locations registered and
// removed. Times never go back and often repeat. It returns the keys and
// uids it used.
func genHistory(tb testing.TB, seed uint64, n int) (evs []event.Envelope, keys, uids []string) {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 0xa5))
	kinds := []string{"Component", "Component", "Component", "API", "System", "Group"}
	tags := []string{"go", "java", "web", "data", "c++"}
	type live struct{ uid string }
	state := map[string]live{}
	seenKey, seenUID := map[string]bool{}, map[string]bool{}
	nuid := 0
	at := histtest.Epoch
	for pos := int64(1); len(evs) < n; pos++ {
		i := r.IntN(120)
		kind := kinds[i%len(kinds)]
		name := fmt.Sprintf("ent-%03d", i)
		if i%7 == 0 {
			name = fmt.Sprintf("Ent-%03d", i) // names keep their spelling in refs
		}
		key := strings.ToLower(kind + ":default/" + name)
		cur, exists := state[key]
		meta := event.Meta{Actor: "location:L1", Time: at}
		var ev event.Envelope
		var err error
		switch k := r.IntN(20); {
		case k < 12 || !exists && k < 16:
			uid := cur.uid
			if !exists {
				nuid++
				uid = fmt.Sprintf("uid-%d", nuid)
			}
			spec := map[string]any{"owner": fmt.Sprintf("group:team-%d", r.IntN(5))}
			md := map[string]any{"name": name, "description": fmt.Sprintf("Entity %d, %s", i, []string{"Alpha", "beta", "GAMMA"}[r.IntN(3)])}
			var tg []any
			for _, t := range tags {
				if r.IntN(3) == 0 {
					tg = append(tg, t)
				}
			}
			if len(tg) > 0 {
				md["tags"] = tg
			}
			if r.IntN(2) == 0 {
				md["annotations"] = map[string]any{"backstage.io/techdocs-ref": []string{"dir:.", "url:https://x"}[r.IntN(2)]}
			}
			switch kind {
			case "Component":
				spec["type"] = []string{"service", "website", "Service", "library"}[r.IntN(4)]
				spec["lifecycle"] = []string{"production", "experimental"}[r.IntN(2)]
				if r.IntN(3) > 0 {
					spec["system"] = fmt.Sprintf("sys-%d", r.IntN(4))
				}
				if r.IntN(2) == 0 {
					spec["providesApis"] = []any{fmt.Sprintf("api:ent-%03d", 3+6*r.IntN(20))}
				}
				if r.IntN(2) == 0 {
					spec["dependsOn"] = []any{fmt.Sprintf("component:ent-%03d", 6*r.IntN(20))}
				}
			case "API":
				spec["type"] = "openapi"
				spec["lifecycle"] = "production"
				spec["definition"] = "openapi: 3.0.0"
			case "System":
			case "Group":
				spec = map[string]any{"type": "team", "children": []any{}}
				if r.IntN(2) == 0 {
					spec["parent"] = fmt.Sprintf("group:ent-%03d", 5+6*r.IntN(20))
				}
			}
			ent, err := catalog.NewEntity(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": md, "spec": spec})
			if err != nil {
				tb.Fatal(err)
			}
			body := ent.JSON()
			ev, err = event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
				Ref: ent.Ref().String(), UID: uid, Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
				LocationID: fmt.Sprintf("L%d", i%3), ManagedBy: "file:/catalog/" + name + ".yaml", OriginLocation: "file:/catalog/all.yaml",
			}, meta)
			if err != nil {
				tb.Fatal(err)
			}
			state[key] = live{uid}
			seenUID[uid] = true
		case k < 13 && exists:
			// Re-read unchanged: the history makes no version; emitted as an
			// upsert of the stored body would need it, so a removal with a
			// stale uid stands in for a no-op.
			ev, err = event.New(event.TypeEntityRemoved, key, event.EntityRemoved{Ref: key, UID: "uid-stale", LocationID: "L1"}, meta)
		case k < 17:
			if exists {
				delete(state, key)
			}
			ev, err = event.New(event.TypeEntityRemoved, key, event.EntityRemoved{Ref: key, UID: cur.uid, LocationID: "L1"}, meta)
		default:
			j := r.IntN(3)
			target := fmt.Sprintf("/catalog/%c.yaml", 'a'+j)
			ref := catalog.GeneratedLocationRef("file", target)
			if r.IntN(2) == 0 {
				ev, err = event.New(event.TypeLocationRemoved, ref.Key(), event.LocationRemoved{ID: fmt.Sprintf("L-%d", j), Type: "file", Target: target}, meta)
			} else {
				ev, err = event.New(event.TypeLocationRegistered, ref.Key(), event.LocationRegistered{ID: fmt.Sprintf("L-%d", j), Type: "file", Target: target, EntityRef: ref.String()}, meta)
				seenKey[ref.Key()] = true
				seenUID[fmt.Sprintf("L-%d", j)] = true
			}
		}
		if err != nil {
			tb.Fatal(err)
		}
		seenKey[key] = true
		if r.IntN(3) > 0 {
			at = at.Add(time.Duration(1+r.IntN(3000)) * time.Millisecond)
		}
		ev.Position, ev.Partition = pos, 0
		ev.ID = fmt.Sprintf("ev-%d-%d", seed, pos)
		evs = append(evs, ev)
	}
	for k := range seenKey {
		keys = append(keys, k)
	}
	for u := range seenUID {
		uids = append(uids, u)
	}
	return evs, append(keys, "component:default/missing"), append(uids, "uid-missing")
}

// TestDirectEqualsSnapshot is the contract of the direct path: at several
// instants (positions and times) of a generated history, every answer of the
// catalog the history answers directly equals the answer of the catalog read
// model built for that instant: the same entities (bodies, relations), in the
// same order, on the same pages forward and backward, with the same totals
// and the same facet counts. The catalog rows of the first 40% of the
// history are built in bulk (KeepCatalogRows), those of the rest are kept by
// Apply batch by batch. By default the history has 600 events and each
// filter is asked with two of the orders; BACKLOT_ASOF_CONTRACT_EVENTS=N
// (2500, say) asks every filter with every order on N events.
func TestDirectEqualsSnapshot(t *testing.T) {
	t.Parallel()
	hist, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	checkDirectEqualsSnapshot(t, hist, 1)
}

// TestDirectEqualsSnapshotPostgres is TestDirectEqualsSnapshot on the
// PostgreSQL history, folding a log of 4 partitions.
func TestDirectEqualsSnapshotPostgres(t *testing.T) {
	t.Parallel()
	hist, err := pghist.Open(context.Background(), pgtest.URL(t), pghist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	checkDirectEqualsSnapshot(t, hist, 4)
}

// directHistory is a history that answers the catalog at an instant
// directly once it keeps the catalog rows.
type directHistory interface {
	history.Store
	KeepCatalogRows(ctx context.Context) error
}

// checkDirectEqualsSnapshot is the contract of the direct path on hist, an
// empty history, of a log of parts partitions (the events' subjects choose
// their partition, as on Kafka).
func checkDirectEqualsSnapshot(t *testing.T, hist directHistory, parts int) {
	n, full := 600, false
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_ASOF_CONTRACT_EVENTS")); err == nil && v >= 10 {
		n, full = v, true
	}
	dir := t.TempDir()
	evs, keys, uids := genHistory(t, 11, n)
	if parts > 1 {
		evs = storetest.Partition(evs, parts)
	}
	bulk := n * 2 / 5
	histtest.ApplyInBatches(t, hist, evs[:bulk], 97)
	if err := hist.KeepCatalogRows(context.Background()); err != nil {
		t.Fatal(err)
	}
	histtest.ApplyInBatches(t, hist, evs[bulk:], 37)
	snaps, err := asof.New(hist, filepath.Join(dir, "snap"), asof.SnapshotsOnly(), asof.MaxBuilding(4))
	if err != nil {
		t.Fatal(err)
	}
	defer snaps.Close()
	direct, err := asof.New(hist, filepath.Join(dir, "direct"))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	ctx := context.Background()
	instants := []history.Instant{
		history.AtPositions(event.PositionsOf(evs[:0])),
		history.AtPositions(event.PositionsOf(evs[:bulk-3])),
		history.AtPositions(event.PositionsOf(evs[:n*7/10])),
		history.AtPositions(event.PositionsOf(evs)),
		history.AtTime(evs[n/2].Time.Add(time.Millisecond)),
		history.AtTime(evs[len(evs)-1].Time.Add(time.Hour)),
	}
	for _, at := range instants {
		t.Run(at.String(), func(t *testing.T) {
			s, err := snaps.At(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.(*sqlitecatalog.Store); !ok {
				t.Fatalf("the snapshot path answered with %T", s)
			}
			d, err := direct.At(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := d.(*sqlitecatalog.Store); ok {
				t.Fatal("the direct path built a read model")
			}
			compareCatalogs(t, ctx, s, d, keys, uids, full)
		})
	}
}

func cond(key string, values ...string) catalogstore.Condition {
	return catalogstore.Condition{Key: key, Values: values}
}

// compareCatalogs asks want (a built read model) and got the same questions.
func compareCatalogs(t *testing.T, ctx context.Context, want, got catalogstore.Reader, keys, uids []string, full bool) {
	t.Helper()
	filters := map[string]catalogstore.Filter{
		"all":                nil,
		"kind":               {{cond("kind", "component")}},
		"kind or kind":       {{cond("kind", "API")}, {cond("kind", "group")}},
		"owner":              {{cond("spec.owner", "group:team-1", "GROUP:TEAM-3")}},
		"owner and type":     {{cond("spec.owner", "group:team-2"), cond("spec.type", "service")}},
		"tag":                {{cond("metadata.tags", "go")}},
		"tag as key":         {{cond("metadata.tags.java")}},
		"has system":         {{cond("spec.system")}},
		"relation":           {{cond("relations.ownedBy", "group:default/team-0")}},
		"relation exists":    {{cond("relations.dependsOn")}},
		"provider of":        {{cond("relations.apiProvidedBy")}},
		"name":               {{cond("metadata.name", "ent-005", "Ent-007", "ent-014")}},
		"namespace":          {{cond("metadata.namespace", "default")}},
		"uid":                {{cond("metadata.uid", "uid-3", "uid-40", "uid-41")}},
		"annotation":         {{cond("metadata.annotations.backstage.io/techdocs-ref", "dir:.")}},
		"location kind":      {{cond("kind", "location")}},
		"nothing":            {{cond("spec.owner", "nobody")}},
		"kind and lifecycle": {{cond("kind", "component"), cond("spec.lifecycle", "experimental")}},
	}
	orders := map[string][]catalogstore.Order{
		"created":           nil,
		"created desc":      {{Field: catalogstore.CreationOrder, Desc: true}},
		"name":              {{Field: "metadata.name"}},
		"owner desc, name":  {{Field: "spec.owner", Desc: true}, {Field: "metadata.name"}},
		"system":            {{Field: "spec.system"}},
		"kind then created": {{Field: "kind"}, {Field: catalogstore.CreationOrder}},
	}
	fnames, onames := slices.Sorted(maps.Keys(filters)), slices.Sorted(maps.Keys(orders))
	for fi, fname := range fnames {
		f := filters[fname]
		for oi, oname := range onames {
			// Every filter with every order in the full run; by default
			// with two orders each, in turn, so every order is still asked
			// with six filters.
			if !full && oi != fi%len(onames) && oi != (fi+3)%len(onames) {
				continue
			}
			o := orders[oname]
			name := fname + "/" + oname
			for _, q := range []catalogstore.PageQuery{
				{Filter: f, Order: o, CountTotal: true},
				{Filter: f, Order: o, Offset: 3, Limit: 5, CountTotal: true},
				{Filter: f, Order: o, FullText: catalogstore.FullText{Term: "alpha"}, CountTotal: true},
				{Filter: f, Order: o, FullText: catalogstore.FullText{Term: "Ent-0", Fields: []string{"metadata.name"}}, Limit: 4},
			} {
				comparePage(t, ctx, name, want, got, q)
			}
			comparePaging(t, ctx, name, want, got, catalogstore.PageQuery{Filter: f, Order: o, Limit: 16, CountTotal: true})
		}
		facets := []string{"kind", "spec.owner", "metadata.tags", "spec.type", "metadata.namespace", "relations.ownedBy", "relations.partOf", "metadata.description"}
		wf, err := want.Facets(ctx, facets, f)
		if err != nil {
			t.Fatal(err)
		}
		gf, err := got.Facets(ctx, facets, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(wf, gf) {
			t.Errorf("%s: facets\n got %v\nwant %v", fname, gf, wf)
		}
	}
	wv, err := want.ByKeys(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	gv, err := got.ByKeys(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if !sameView(wv[i], gv[i]) {
			t.Errorf("by key %s:\n got %s\nwant %s", keys[i], show(gv[i]), show(wv[i]))
		}
	}
	for _, uid := range uids {
		w, werr := want.ByUID(ctx, uid)
		g, gerr := got.ByUID(ctx, uid)
		if (werr == nil) != (gerr == nil) || !sameView(w, g) {
			t.Errorf("by uid %s: got %s, %v; want %s, %v", uid, show(g), gerr, show(w), werr)
		}
	}
}

// comparePage compares one page of each.
func comparePage(t *testing.T, ctx context.Context, name string, want, got catalogstore.Reader, q catalogstore.PageQuery) {
	t.Helper()
	comparePages(t, ctx, name, want, got, q, q)
}

// comparePages compares the page wq of want with the page gq of got, which
// differ only in their cursors, and returns both.
func comparePages(t *testing.T, ctx context.Context, name string, want, got catalogstore.Reader, wq, gq catalogstore.PageQuery) (catalogstore.Page, catalogstore.Page) {
	t.Helper()
	q := gq
	wp, err := want.Query(ctx, wq)
	if err != nil {
		t.Fatalf("%s: built: %v", name, err)
	}
	gp, err := got.Query(ctx, gq)
	if err != nil {
		t.Fatalf("%s: direct: %v", name, err)
	}
	if wp.TotalItems != gp.TotalItems || wp.HasNext != gp.HasNext || wp.HasPrev != gp.HasPrev || len(wp.Items) != len(gp.Items) {
		t.Fatalf("%s %+v: got %d items (total %d, next %v, prev %v) %v, want %d (total %d, next %v, prev %v) %v", name, q,
			len(gp.Items), gp.TotalItems, gp.HasNext, gp.HasPrev, pageKeys(gp), len(wp.Items), wp.TotalItems, wp.HasNext, wp.HasPrev, pageKeys(wp))
	}
	for i := range wp.Items {
		if !sameView(&wp.Items[i], &gp.Items[i]) {
			t.Fatalf("%s %+v: item %d:\n got %s\nwant %s", name, q, i, show(&gp.Items[i]), show(&wp.Items[i]))
		}
	}
	return wp, gp
}

// comparePaging walks every page forward with each reader's own cursors, then
// back from the last page, comparing each page.
func comparePaging(t *testing.T, ctx context.Context, name string, want, got catalogstore.Reader, q catalogstore.PageQuery) {
	t.Helper()
	wq, gq := q, q
	var wLast, gLast catalogstore.Page
	for i := 0; ; i++ {
		wp, gp := comparePages(t, ctx, fmt.Sprintf("%s page %d", name, i), want, got, wq, gq)
		wLast, gLast = wp, gp
		if !wp.HasNext {
			break
		}
		wq.After, gq.After = wp.Last, gp.Last
	}
	for i := 0; wLast.HasPrev; i++ {
		wq, gq = q, q
		wq.Before, gq.Before = wLast.First, gLast.First
		wLast, gLast = comparePages(t, ctx, fmt.Sprintf("%s back %d", name, i), want, got, wq, gq)
	}
}

func pageKeys(p catalogstore.Page) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.Key
	}
	return out
}

func sameView(a, b *catalogstore.EntityView) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && a.Key == b.Key && a.Ref == b.Ref && a.UID == b.UID && a.LocationID == b.LocationID && string(ja) == string(jb)
}

func show(v *catalogstore.EntityView) string {
	if v == nil {
		return "<nil>"
	}
	j, _ := json.Marshal(v)
	return v.Key + " " + v.LocationID + " " + string(j)
}
