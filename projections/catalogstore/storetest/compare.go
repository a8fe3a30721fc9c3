package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// referenceEntities is the size of the generated catalog SameAnswersAsSQLite
// compares on.
const referenceEntities = 2500

// OpenSQLite opens a SQLite store in a temporary folder of the test, closed at cleanup.
func OpenSQLite(t testing.TB) *sqlitecatalog.Store {
	t.Helper()
	s, _ := OpenSQLiteFile(t)
	return s
}

func testSameAnswersAsSQLite(t *testing.T, open Opener) {
	evs := historyEvents(t, referenceEntities)
	ref, path := OpenSQLiteFile(t)
	ApplyInBatches(t, ref, evs, 333)
	// The reference stores list items' keys as rows of their own, as before
	// item rows were marked: every store answers as it did then.
	WriteItemKeysAsRows(t, path)
	s := open(t)
	ApplyInBatches(t, s, evs, 500)
	CompareReaders(t, ref, s)
}

// CompareReaders fails the test where got answers otherwise than want: the
// whole DumpReader rendering, then pages of filtered, ordered, full-text and
// location queries with their totals and keysets (forwards, backwards and by
// offset), facets with and without filters, lookups by key and uid, and
// snapshots. The queries pick their values from want's own facets.
func CompareReaders(t *testing.T, want, got catalogstore.Reader) {
	t.Helper()
	ctx := context.Background()
	if w, g := Dump(t, want), Dump(t, got); w != g {
		t.Fatalf("the stores' dumps differ:\n%s", firstDiff(w, g))
	}
	facets, err := want.Facets(ctx, []string{"spec.owner", "metadata.tags", "spec.system", "relations.ownedBy", "spec.type"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pick := func(facet string, i int) string {
		vs := facets[facet]
		if len(vs) == 0 {
			t.Fatalf("the reference has no value of %s", facet)
		}
		return vs[i%len(vs)].Value
	}
	cond := func(key string, values ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: values}
	}
	// Keys of list items (catalogstore.ItemKeys): metadata.tags.<tag>.
	tagKey := func(i int) string { return "metadata.tags." + strings.ToLower(pick("metadata.tags", i)) }
	filters := map[string]catalogstore.Filter{
		"none":              nil,
		"kind":              {{cond("kind", "Component")}},
		"kind and type":     {{cond("kind", "component"), cond("spec.type", "service")}},
		"type mixed case":   {{cond("spec.type", "SERVICE")}},
		"or":                {{cond("spec.lifecycle", "production")}, {cond("kind", "API")}},
		"owner":             {{cond("spec.owner", pick("spec.owner", 0), pick("spec.owner", 3))}},
		"relation":          {{cond("relations.ownedBy", pick("relations.ownedBy", 1))}},
		"relation and kind": {{cond("relations.ownedBy", pick("relations.ownedBy", 2)), cond("kind", "component", "api")}},
		"any relation":      {{cond("relations.partOf")}},
		"tag":               {{cond("metadata.tags", pick("metadata.tags", 0))}},
		"system exists":     {{cond("spec.system")}},
		"namespace":         {{cond("metadata.namespace", "default")}},
		"name":              {{cond("metadata.name", "mixed-1", "MIXED-2")}},
		"label":             {{cond("metadata.labels.lang", "java")}},
		"long annotation":   {{cond("metadata.annotations.example.com/long")}},
		"nothing":           {{cond("spec.type", "no-such-type")}},
		"empty conjunction": {{}, {cond("kind", "group")}},
		"several kinds":     {{cond("kind", "component", "API"), cond("spec.lifecycle", "production")}},
		"kind in each":      {{cond("kind", "api")}, {cond("kind", "Component"), cond("spec.type", "service")}, {cond("kind", "group", "component")}},
		"kinds narrowed":    {{cond("kind", "component", "api"), cond("kind", "API", "group")}},
		"no kind in both":   {{cond("kind", "component"), cond("kind", "group")}},
		"tag key":           {{cond(tagKey(0), "true")}},
		"tag key spelt":     {{cond(strings.ToUpper(tagKey(1)), "TRUE", "x")}},
		"tag key exists":    {{cond(tagKey(2))}},
		"tag key false":     {{cond(tagKey(0), "false")}},
		"tag keys or":       {{cond(tagKey(0), "true")}, {cond(tagKey(3))}},
		"tag key and type":  {{cond(tagKey(1), "true"), cond("kind", "component"), cond("spec.type", "service")}},
		"dependency key":    {{cond("spec.dependsOn.component:service-3", "true")}},
	}
	orders := map[string][]catalogstore.Order{
		"default":           nil,
		"name desc":         {{Field: "metadata.name", Desc: true}},
		"owner then name":   {{Field: "spec.owner"}, {Field: "metadata.name"}},
		"lifecycle desc":    {{Field: "spec.lifecycle", Desc: true}},
		"kind then created": {{Field: "kind"}, {Field: catalogstore.CreationOrder}},
		"uid":               {{Field: "metadata.uid"}},
		"missing field":     {{Field: "spec.nothing"}},
		"tag key":           {{Field: tagKey(0)}, {Field: "metadata.name"}},
		"tag key desc":      {{Field: tagKey(1), Desc: true}},
		"key":               {{Field: catalogstore.KeyOrder}},
		"key desc":          {{Field: catalogstore.KeyOrder, Desc: true}},
	}
	var queries []catalogstore.PageQuery
	for _, f := range filters {
		queries = append(queries, catalogstore.PageQuery{Filter: f, CountTotal: true, Limit: 25})
		queries = append(queries, catalogstore.PageQuery{Filter: f, Limit: 10, Offset: 30})
	}
	for _, o := range orders {
		queries = append(queries, catalogstore.PageQuery{Order: o, CountTotal: true, Limit: 40})
		queries = append(queries, catalogstore.PageQuery{Order: o, Filter: filters["kind and type"], Limit: 15, Offset: 7})
	}
	for _, term := range []string{"service", "Mixed", "xxxxx", "a_b", "%", "tru", "RUE", "true", "e"} {
		queries = append(queries, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: term}, CountTotal: true, Limit: 20})
		queries = append(queries, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: term, Fields: []string{"metadata.name", "spec.type"}}, CountTotal: true, Limit: 20})
		queries = append(queries, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: term, Fields: []string{tagKey(0), "metadata.title"}}, CountTotal: true, Limit: 20})
	}
	queries = append(queries,
		catalogstore.PageQuery{Offset: 2490},
		catalogstore.PageQuery{Offset: 5, After: &catalogstore.Keyset{Values: []string{"2600"}, Key: "x"}},
		catalogstore.PageQuery{Offset: 5, Limit: 3, After: &catalogstore.Keyset{Values: []string{"1200"}, Key: "x"}},
		catalogstore.PageQuery{Limit: 3, Before: &catalogstore.Keyset{Values: []string{"not-a-position"}, Key: "x"}},
		catalogstore.PageQuery{Limit: 3, After: &catalogstore.Keyset{Values: []string{"not-a-position"}, Key: "x"}},
		catalogstore.PageQuery{Filter: catalogstore.Filter{{cond(catalogstore.CreationOrder, "5", "7")}}, CountTotal: true},
		catalogstore.PageQuery{LocationID: "L2", CountTotal: true},
		catalogstore.PageQuery{LocationID: "L1", CountTotal: true, Limit: 30, Order: orders["name desc"]},
		catalogstore.PageQuery{Filter: filters["owner"], Order: orders["owner then name"]},
	)
	for i, q := range queries {
		comparePages(t, fmt.Sprintf("query %d %s", i, describe(q)), want, got, q)
	}
	// Keyset paging through whole results, forwards and then backwards.
	for name, o := range orders {
		compareWalk(t, name+" of components of a type", want, got, o, filters["kind and type"], 150)
		compareWalk(t, name+" of several kinds", want, got, o, filters["kind in each"], 150)
		switch name {
		case "default", "name desc", "owner then name":
			compareWalk(t, name, want, got, o, nil, 400)
		}
	}

	facetNames := []string{"kind", "spec.type", "spec.lifecycle", "spec.owner", "metadata.tags", "metadata.labels.lang", "metadata.namespace", "relations.ownedBy", "relations.dependsOn", "spec.nothing", "metadata.annotations.example.com/long",
		tagKey(0), strings.ToUpper(tagKey(1)), "spec.dependsOn.component:service-3"}
	for _, name := range []string{"none", "kind and type", "or", "owner", "relation", "tag", "name", "nothing", "empty conjunction", "tag key", "tag key exists", "tag key and type"} {
		f := filters[name]
		wf, err := want.Facets(ctx, facetNames, f)
		if err != nil {
			t.Fatal(err)
		}
		gf, err := got.Facets(ctx, facetNames, f)
		if err != nil {
			t.Fatalf("facets with filter %s: %v", name, err)
		}
		for _, fn := range facetNames {
			if w, g := jsonOf(t, wf[fn]), jsonOf(t, gf[fn]); w != g {
				t.Fatalf("facet %s with filter %s differs:\nwant %s\n got %s", fn, name, clip(w), clip(g))
			}
		}
	}

	page, err := want.Query(ctx, catalogstore.PageQuery{Limit: 200, Offset: 100})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"component:default/none", "Group:Default/Nobody"}
	var uids []string
	for i, v := range page.Items {
		if i%3 == 0 {
			keys = append(keys, v.Ref)
			uids = append(uids, v.UID)
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
	if w, g := jsonOf(t, wv), jsonOf(t, gv); w != g {
		t.Fatalf("by keys differ:\nwant %s\n got %s", clip(w), clip(g))
	}
	for _, uid := range append(uids, "no-such-uid") {
		w, werr := want.ByUID(ctx, uid)
		g, gerr := got.ByUID(ctx, uid)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || jsonOf(t, w) != jsonOf(t, g) {
			t.Fatalf("by uid %s: want %s (%v), got %s (%v)", uid, clip(jsonOf(t, w)), werr, clip(jsonOf(t, g)), gerr)
		}
	}
	for _, id := range []string{"L1", "L2", "L3", "L9"} {
		wl, werr := want.Location(ctx, id)
		gl, gerr := got.Location(ctx, id)
		if wl != gl || fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("location %s: want %+v (%v), got %+v (%v)", id, wl, werr, gl, gerr)
		}
		we, _ := want.LocationErrors(ctx, id)
		ge, err := got.LocationErrors(ctx, id)
		if err != nil || jsonOf(t, we) != jsonOf(t, ge) {
			t.Fatalf("errors of location %s: want %s, got %s (%v)", id, jsonOf(t, we), jsonOf(t, ge), err)
		}
	}
}

func describe(q catalogstore.PageQuery) string {
	b, _ := json.Marshal(q)
	return string(b)
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	return string(mustJSON(t, v))
}

// pageJSON renders a page with everything a client sees of it.
func pageJSON(t testing.TB, p catalogstore.Page) string {
	t.Helper()
	return jsonOf(t, struct {
		Items            []catalogstore.EntityView
		Keys             []string
		Total            int
		First, Last      *catalogstore.Keyset
		HasNext, HasPrev bool
	}{p.Items, keysOf(p), p.TotalItems, p.First, p.Last, p.HasNext, p.HasPrev})
}

func keysOf(p catalogstore.Page) []string {
	out := make([]string, len(p.Items))
	for i, v := range p.Items {
		out[i] = v.Key + " " + v.UID + " " + v.LocationID
	}
	return out
}

func comparePages(t *testing.T, name string, want, got catalogstore.Reader, q catalogstore.PageQuery) (catalogstore.Page, catalogstore.Page) {
	t.Helper()
	ctx := context.Background()
	wp, err := want.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s on the reference: %v", name, err)
	}
	gp, err := got.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if w, g := pageJSON(t, wp), pageJSON(t, gp); w != g {
		t.Fatalf("%s: pages differ:\n%s", name, firstDiff(jsonLines(wp), jsonLines(gp)))
	}
	return wp, gp
}

func jsonLines(p catalogstore.Page) string {
	s := fmt.Sprintf("total %d next %v prev %v first %+v last %+v\n", p.TotalItems, p.HasNext, p.HasPrev, p.First, p.Last)
	for _, v := range p.Items {
		b, _ := json.Marshal(v)
		s += v.Key + " " + string(b) + "\n"
	}
	return s
}

// compareWalk pages forwards through a whole result by keysets, then back.
func compareWalk(t *testing.T, name string, want, got catalogstore.Reader, order []catalogstore.Order, f catalogstore.Filter, size int) {
	t.Helper()
	q := catalogstore.PageQuery{Order: order, Filter: f, Limit: size}
	var pages []catalogstore.Page
	for i := 0; ; i++ {
		wp, _ := comparePages(t, fmt.Sprintf("walk %s page %d", name, i), want, got, q)
		pages = append(pages, wp)
		if !wp.HasNext {
			break
		}
		q.After = wp.Last
	}
	q.After = nil
	for i := len(pages) - 1; i > 0; i-- {
		q.Before = pages[i].First
		comparePages(t, fmt.Sprintf("walk %s back from page %d", name, i), want, got, q)
	}
}
