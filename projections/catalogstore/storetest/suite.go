package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/projections/catalogstore"
)

// Features says what the store under test supports beyond the common contract.
type Features struct {
	// Partitioned is set for a store that folds a partitioned log: it applies
	// events of any partition, records a position per partition, and may be
	// applied to from several goroutines or processes at once, each with its own
	// partitions. Run then checks that interleavings, batchings and concurrent
	// applies of partitions fold the same read model. When unset, Run checks
	// that the store refuses an event of a partition other than 0.
	Partitioned bool
}

// Opener opens a fresh, empty store for one test; the store is closed by the
// opener's cleanup.
type Opener func(t *testing.T) catalogstore.Store

// Run runs the contract suite against the stores open makes. Subtests run in
// parallel, each with its own store.
func Run(t *testing.T, open Opener, f Features) {
	cases := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{"ApplyIsIdempotentAndRecordsPosition", testApplyIsIdempotent},
		{"RelationsBothWaysAndRemoval", testRelationsBothWaysAndRemoval},
		{"QueryFiltersFacetsAndPaging", testQueryFiltersFacetsAndPaging},
		{"CountsAndFacetsFollowWrites", testCountsFollowWrites},
		{"LocationsErrorsAndStatus", testLocationsErrorsAndStatus},
		{"SameAnswersAsSQLite", testSameAnswersAsSQLite},
		{"OneAtATimeFoldsAsOneBatch", testOneAtATimeAsOneBatch},
	}
	if f.Partitioned {
		cases = append(cases,
			struct {
				name string
				run  func(t *testing.T, open Opener)
			}{"PartitionsFoldTheSameReadModel", testPartitionInterleavings},
			struct {
				name string
				run  func(t *testing.T, open Opener)
			}{"ConcurrentAppliesOfPartitions", testConcurrentPartitions},
		)
	} else {
		cases = append(cases, struct {
			name string
			run  func(t *testing.T, open Opener)
		}{"RefusesOtherPartitions", testRefusesOtherPartitions})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// Dump returns DumpReader's rendering of r, failing the test on error.
func Dump(t testing.TB, r catalogstore.Reader) string {
	t.Helper()
	d, err := DumpReader(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ApplyInBatches applies evs in batches of size, failing the test on error.
func ApplyInBatches(t testing.TB, s catalogstore.Store, evs []event.Envelope, size int) {
	t.Helper()
	for i := 0; i < len(evs); i += size {
		if err := s.Apply(context.Background(), evs[i:min(i+size, len(evs))]); err != nil {
			t.Fatalf("apply events %d to %d: %v", i, min(i+size, len(evs)), err)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testApplyIsIdempotent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	evs := Components(t, 0, 50)
	if err := s.Apply(ctx, evs[:30]); err != nil {
		t.Fatal(err)
	}
	once := Dump(t, s)
	// The same batch again, and an overlapping one: nothing doubles.
	if err := s.Apply(ctx, evs[:30]); err != nil {
		t.Fatal(err)
	}
	if Dump(t, s) != once {
		t.Fatal("applying a batch twice changed the read model")
	}
	if err := s.Apply(ctx, evs[20:]); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Positions(ctx)
	if err != nil || pos[0] != 50 {
		t.Fatalf("position %v (%v), want 0:50", pos, err)
	}
	page, err := s.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil || page.TotalItems != 50 || len(page.Items) != 50 {
		t.Fatalf("after overlapping batches: total %d, items %d (%v), want 50", page.TotalItems, len(page.Items), err)
	}
	// A fresh store fed the same events in other batch sizes is identical.
	s2 := open(t)
	ApplyInBatches(t, s2, evs, 7)
	if Dump(t, s2) != Dump(t, s) {
		t.Fatal("the read model depends on batch boundaries")
	}
}

func testRelationsBothWaysAndRemoval(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if err := s.Apply(ctx, Components(t, 0, 3)); err != nil {
		t.Fatal(err)
	}
	views, err := s.ByKeys(ctx, []string{"component:default/service-1", "group:default/team-1", "component:default/missing", "Component:Default/Service-1"})
	if err != nil {
		t.Fatal(err)
	}
	if views[2] != nil || views[1] != nil {
		t.Fatal("a missing key must answer nil")
	}
	if views[3] == nil || views[3].Key != "component:default/service-1" {
		t.Fatal("keys are matched case-insensitively")
	}
	has := func(v *catalogstore.EntityView, typ, target string) bool {
		for _, r := range v.Relations {
			if r.Type == typ && r.TargetRef == target {
				return true
			}
		}
		return false
	}
	if !has(views[0], "ownedBy", "group:default/team-1") || !has(views[0], "partOf", "system:default/system-1") {
		t.Fatalf("service-1 relations: %+v", views[0].Relations)
	}
	// The group does not exist as an entity, so it has no view; but the reverse
	// relation is stored and found by a filter on the component side.
	page, err := s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "relations.ownedBy", Values: []string{"Group:Default/Team-1"}}}}, CountTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalItems != 1 || page.Items[0].Key != "component:default/service-1" {
		t.Fatalf("relations filter: %+v", page)
	}
	var body map[string]any
	if err := json.Unmarshal(mustJSON(t, views[0]), &body); err != nil {
		t.Fatal(err)
	}
	if body["metadata"].(map[string]any)["uid"] != "uid-1" || body["relations"] == nil {
		t.Fatalf("rendered entity lacks uid or relations: %v", body)
	}
	if v, err := s.ByUID(ctx, "uid-2"); err != nil || v.Key != "component:default/service-2" {
		t.Fatalf("by uid: %v, %v", v, err)
	}
	if _, err := s.ByUID(ctx, "no-such-uid"); !errors.Is(err, catalogstore.ErrNotFound) {
		t.Fatalf("by unknown uid: %v, want ErrNotFound", err)
	}

	// Removal with a stale uid is ignored; with the current uid it removes the
	// entity and the relations it declared.
	rm := func(pos int64, uid string) event.Envelope {
		ev, err := event.New(event.TypeEntityRemoved, "component:default/service-1", event.EntityRemoved{Ref: "component:default/service-1", UID: uid, Reason: "test"}, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = pos
		return ev
	}
	if err := s.Apply(ctx, []event.Envelope{rm(4, "someone-else")}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.ByKeys(ctx, []string{"component:default/service-1"}); v[0] == nil {
		t.Fatal("a removal with a stale uid removed the entity")
	}
	if err := s.Apply(ctx, []event.Envelope{rm(5, "uid-1")}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.ByKeys(ctx, []string{"component:default/service-1"}); v[0] != nil {
		t.Fatal("entity not removed")
	}
	if _, err := s.ByUID(ctx, "uid-1"); !errors.Is(err, catalogstore.ErrNotFound) {
		t.Fatalf("by the removed entity's uid: %v, want ErrNotFound", err)
	}
	page, err = s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "relations.ownedBy", Values: []string{"group:default/team-1"}}}}, CountTotal: true})
	if err != nil || page.TotalItems != 0 {
		t.Fatalf("relations of a removed entity remain: %+v %v", page, err)
	}
	page, err = s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "metadata.name", Values: []string{"service-1"}}}}, CountTotal: true})
	if err != nil || page.TotalItems != 0 {
		t.Fatalf("search rows of a removed entity remain: %+v %v", page, err)
	}
}

func testQueryFiltersFacetsAndPaging(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if err := s.Apply(ctx, Components(t, 0, 30)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter catalogstore.Filter
		want   int
	}{
		{"all", nil, 30},
		{"kind case-insensitive", catalogstore.Filter{{{Key: "KIND", Values: []string{"COMPONENT"}}}}, 30},
		{"and", catalogstore.Filter{{{Key: "spec.type", Values: []string{"service"}}, {Key: "spec.lifecycle", Values: []string{"production"}}}}, 10},
		{"or", catalogstore.Filter{{{Key: "spec.type", Values: []string{"service"}}}, {{Key: "spec.type", Values: []string{"website"}}}}, 20},
		{"several values", catalogstore.Filter{{{Key: "spec.type", Values: []string{"service", "library"}}}}, 20},
		{"exists", catalogstore.Filter{{{Key: "spec.dependsOn"}}}, 30},
		{"list item", catalogstore.Filter{{{Key: "metadata.tags", Values: []string{"tier-1"}}}}, 10},
		{"list item as key", catalogstore.Filter{{{Key: "metadata.tags.tier-1"}}}, 10},
		{"annotation", catalogstore.Filter{{{Key: "metadata.annotations.github.com/project-slug", Values: []string{"org/service-7"}}}}, 1},
		{"name column", catalogstore.Filter{{{Key: "metadata.name", Values: []string{"SERVICE-3", "service-4"}}}}, 2},
		{"uid column in its own case", catalogstore.Filter{{{Key: "metadata.uid", Values: []string{"uid-5"}}}}, 1},
		{"namespace column", catalogstore.Filter{{{Key: "metadata.namespace", Values: []string{"default"}}}}, 30},
		{"relation and search", catalogstore.Filter{{{Key: "relations.partOf", Values: []string{"system:default/system-3"}}, {Key: "spec.type", Values: []string{"service"}}}}, 1},
		{"no match", catalogstore.Filter{{{Key: "spec.type", Values: []string{"nothing"}}}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.Query(ctx, catalogstore.PageQuery{Filter: tc.filter, CountTotal: true})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalItems != tc.want || len(page.Items) != tc.want {
				t.Fatalf("total %d, items %d, want %d", page.TotalItems, len(page.Items), tc.want)
			}
		})
	}
	ft, err := s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: "Number 2"}, CountTotal: true})
	if err != nil || ft.TotalItems != 11 { // service-2 and service-20 to -29
		t.Fatalf("full text: total %d (%v), want 11", ft.TotalItems, err)
	}
	ft, err = s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: "service-2", Fields: []string{"metadata.name"}}, CountTotal: true})
	if err != nil || ft.TotalItems != 11 {
		t.Fatalf("full text in a field: total %d (%v), want 11", ft.TotalItems, err)
	}
	// The kind and the name are searched as every other field (service-1,
	// service-10 to -19 by name, three more by the components they depend on).
	for _, tc := range []struct {
		term   string
		fields []string
		want   int
	}{
		{"COMPON", nil, 30}, {"onent", []string{"KIND"}, 30}, {"component", []string{"spec.type"}, 0},
		{"vice-1", nil, 14}, {"vice-1", []string{"metadata.name", "spec.type"}, 11}, {"vice-1", []string{"kind"}, 0},
	} {
		ft, err = s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: tc.term, Fields: tc.fields}, CountTotal: true, Limit: 5})
		if err != nil || ft.TotalItems != tc.want || len(ft.Items) != min(5, tc.want) {
			t.Fatalf("full text %q in %v: total %d, %d items (%v), want %d", tc.term, tc.fields, ft.TotalItems, len(ft.Items), err, tc.want)
		}
	}
	ft, err = s.Query(ctx, catalogstore.PageQuery{FullText: catalogstore.FullText{Term: "100%_"}, CountTotal: true})
	if err != nil || ft.TotalItems != 0 {
		t.Fatalf("full text with LIKE wildcards: total %d (%v), want 0", ft.TotalItems, err)
	}

	facets, err := s.Facets(ctx, []string{"spec.type", "metadata.namespace", "relations.ownedBy"}, catalogstore.Filter{{{Key: "spec.lifecycle", Values: []string{"production"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := facets["spec.type"]; len(got) != 1 || got[0].Value != "service" || got[0].Count != 10 {
		t.Fatalf("spec.type facet %+v", got)
	}
	if got := facets["metadata.namespace"]; len(got) != 1 || got[0].Value != "default" || got[0].Count != 10 {
		t.Fatalf("namespace facet %+v", got)
	}
	if got := facets["relations.ownedBy"]; len(got) != 10 || got[0].Value != "group:default/team-0" || got[0].Count != 1 {
		t.Fatalf("relations facet %+v", got)
	}
	named, err := s.Facets(ctx, []string{"metadata.name", "kind"}, catalogstore.Filter{{{Key: "metadata.name", Values: []string{"service-3", "SERVICE-4"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := named["metadata.name"]; len(got) != 2 || got[0] != (catalogstore.FacetCount{Value: "service-3", Count: 1}) || got[1].Value != "service-4" {
		t.Fatalf("name facet %+v", got)
	}
	if got := named["kind"]; len(got) != 1 || got[0] != (catalogstore.FacetCount{Value: "Component", Count: 2}) {
		t.Fatalf("kind facet of two names %+v", got)
	}
	all, err := s.Facets(ctx, []string{"kind", "metadata.tags"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := all["kind"]; len(got) != 1 || got[0].Value != "Component" || got[0].Count != 30 {
		t.Fatalf("kind facet %+v, want Component 30 in its original spelling", got)
	}
	if got := all["metadata.tags"]; len(got) != 5 || got[0].Value != "backend" || got[0].Count != 30 {
		t.Fatalf("tags facet %+v", got)
	}

	// Keyset paging forwards then backwards visits every item once.
	order := []catalogstore.Order{{Field: "spec.type", Desc: true}}
	seen := map[string]bool{}
	var last *catalogstore.Keyset
	var pages []catalogstore.Page
	for {
		p, err := s.Query(ctx, catalogstore.PageQuery{Order: order, Limit: 7, After: last})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if seen[it.Key] {
				t.Fatalf("%s seen twice", it.Key)
			}
			seen[it.Key] = true
		}
		pages = append(pages, p)
		if !p.HasNext {
			break
		}
		last = p.Last
	}
	if len(seen) != 30 || len(pages) != 5 {
		t.Fatalf("paging saw %d items in %d pages", len(seen), len(pages))
	}
	if pages[0].Items[0].Key != "component:default/service-1" { // website, then the smallest key
		t.Fatalf("first item by spec.type descending: %s", pages[0].Items[0].Key)
	}
	prev, err := s.Query(ctx, catalogstore.PageQuery{Order: order, Limit: 7, Before: pages[2].First})
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.Items) != 7 || prev.Items[0].Key != pages[1].Items[0].Key || !prev.HasPrev || !prev.HasNext {
		t.Fatalf("previous page differs from the second page")
	}
	// Offsets page the default (creation) order.
	off, err := s.Query(ctx, catalogstore.PageQuery{Offset: 28, Limit: 5})
	if err != nil || len(off.Items) != 2 || off.Items[0].Key != "component:default/service-28" || off.HasNext || !off.HasPrev {
		t.Fatalf("offset page: %+v (%v)", off, err)
	}
	// The key order pages every entity in ascending key order, whatever
	// the order they were created in (service-10 before service-2).
	var keys []string
	last = nil
	for {
		p, err := s.Query(ctx, catalogstore.PageQuery{Order: []catalogstore.Order{{Field: catalogstore.KeyOrder}}, Limit: 7, After: last})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			keys = append(keys, it.Key)
		}
		if !p.HasNext {
			break
		}
		last = p.Last
	}
	if len(keys) != 30 || !slices.IsSorted(keys) || keys[2] != "component:default/service-10" {
		t.Fatalf("pages in key order: %v", keys)
	}
	// Entities without the order field sort last both ways.
	for _, desc := range []bool{false, true} {
		p, err := s.Query(ctx, catalogstore.PageQuery{Order: []catalogstore.Order{{Field: "metadata.nothing", Desc: desc}}, Limit: 3})
		if err != nil || len(p.Items) != 3 || p.Items[0].Key != "component:default/service-0" {
			t.Fatalf("order by a missing field (desc %v): %+v (%v)", desc, p.Items, err)
		}
	}
}

func testCountsFollowWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	evs := Components(t, 0, 20)
	if err := s.Apply(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}}}, CountTotal: true, Limit: 1}
	for i := 0; i < 2; i++ { // a store may answer the second time from a cache
		p, err := s.Query(ctx, q)
		if err != nil || p.TotalItems != 10 {
			t.Fatalf("total %d (%v), want 10", p.TotalItems, err)
		}
		f, err := s.Facets(ctx, []string{"kind"}, nil)
		if err != nil || f["kind"][0].Count != 10 {
			t.Fatalf("facet %+v (%v), want 10", f, err)
		}
	}
	if err := s.Apply(ctx, evs[10:]); err != nil {
		t.Fatal(err)
	}
	p, err := s.Query(ctx, q)
	if err != nil || p.TotalItems != 20 {
		t.Fatalf("after a write the count is %d (%v), want 20", p.TotalItems, err)
	}
	f, err := s.Facets(ctx, []string{"kind"}, nil)
	if err != nil || f["kind"][0].Count != 20 {
		t.Fatalf("after a write the facet is %+v (%v), want 20", f, err)
	}
}

func testLocationsErrorsAndStatus(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	var evs []event.Envelope
	add := func(typ event.Type, subject string, data any) {
		ev, err := event.New(typ, subject, data, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(len(evs)) + 1
		evs = append(evs, ev)
	}
	add(event.TypeLocationRegistered, "location:default/generated-a", event.LocationRegistered{ID: "L1", Type: "file", Target: "/catalog/all.yaml", EntityRef: "location:default/generated-a"})
	comps := Components(t, 1, 3)
	evs = append(evs, comps...)
	pe := event.ProcessingError{File: "file:/catalog/all.yaml", Document: 2, Entity: "component:default/service-1", Field: "spec.owner", Name: "InputError", Message: "owner is missing"}
	whole := event.ProcessingError{File: "file:/catalog/gone.yaml", Document: -1, Name: "NotFoundError", Message: "file not found"}
	add(event.TypeProcessingErrorRecorded, "location:default/generated-a", event.ProcessingErrorRecorded{LocationID: "L1", Errors: []event.ProcessingError{pe, whole}})
	ApplyInBatches(t, s, evs, 2)

	locs, err := s.Locations(ctx)
	if err != nil || len(locs) != 1 || locs[0].ID != "L1" || locs[0].EntityRef != "location:default/generated-a" {
		t.Fatalf("locations %+v (%v)", locs, err)
	}
	if l, err := s.LocationByTarget(ctx, "file", "/catalog/all.yaml"); err != nil || l.ID != "L1" {
		t.Fatalf("location by target: %+v (%v)", l, err)
	}
	if _, err := s.Location(ctx, "L9"); !errors.Is(err, catalogstore.ErrNotFound) {
		t.Fatalf("unknown location: %v, want ErrNotFound", err)
	}
	if _, err := s.LocationByTarget(ctx, "url", "/catalog/all.yaml"); !errors.Is(err, catalogstore.ErrNotFound) {
		t.Fatalf("unknown target: %v, want ErrNotFound", err)
	}
	errs, err := s.LocationErrors(ctx, "L1")
	if err != nil || len(errs) != 2 || errs[0] != pe || errs[1] != whole {
		t.Fatalf("location errors %+v (%v)", errs, err)
	}
	// The error names service-1: its status shows it. The generated Location
	// entity shows every error of its location.
	views, err := s.ByKeys(ctx, []string{"component:default/service-1", "component:default/service-0", "location:default/generated-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(views[0].Status) != 1 || views[0].Status[0].Error.Details == nil || *views[0].Status[0].Error.Details != pe || views[0].Status[0].Type != "backstage.io/catalog-processing" {
		t.Fatalf("status of service-1: %+v", views[0].Status)
	}
	if len(views[1].Status) != 0 {
		t.Fatalf("service-0 has status %+v, want none", views[1].Status)
	}
	if views[2] == nil || len(views[2].Status) != 2 || views[2].UID != "L1" {
		t.Fatalf("generated location entity: %+v", views[2])
	}
	rendered := string(mustJSON(t, views[0]))
	if want := `"status":{"items":[`; !strings.Contains(rendered, want) {
		t.Fatalf("rendered entity lacks %s: %s", want, rendered)
	}
	page, err := s.Query(ctx, catalogstore.PageQuery{LocationID: "L1", CountTotal: true})
	if err != nil || page.TotalItems != 3 {
		t.Fatalf("entities of L1: %d (%v), want 3", page.TotalItems, err)
	}

	st, err := s.Snapshot(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := st.Lookup("component:default/service-2"); !ok || k.UID != "uid-2" || k.LocationID != "L1" || k.Hash == "" {
		t.Fatalf("snapshot lookup: %+v %v", k, ok)
	}
	if _, ok := st.Lookup("component:default/nothing"); ok {
		t.Fatal("snapshot finds a missing entity")
	}
	owned := slices.Collect(st.Owned("L1", nil))
	if len(owned) != 3 {
		t.Fatalf("owned %+v, want 3", owned)
	}
	// A caller that stops early is yielded nothing more, and the state
	// reads on.
	var first []refresh.Known
	for k := range st.Owned("L1", nil) {
		first = append(first, k)
		break
	}
	if len(first) != 1 || first[0] != owned[0] {
		t.Fatalf("owned, stopped after one: %+v, want %+v", first, owned[:1])
	}
	if kept := slices.Collect(st.Owned("L1", map[string]bool{"file:/catalog/all.yaml": true})); len(kept) != 0 {
		t.Fatalf("owned except the only file: %+v, want none", kept)
	}
	if got := st.Errors("L1"); len(got) != 2 {
		t.Fatalf("snapshot errors %+v", got)
	}

	// Clearing errors, then removing the location: its errors and its entity go.
	var more []event.Envelope
	next := int64(len(evs))
	for _, m := range []struct {
		typ  event.Type
		data any
	}{
		{event.TypeProcessingErrorCleared, event.ProcessingErrorCleared{LocationID: "L1"}},
		{event.TypeProcessingErrorRecorded, event.ProcessingErrorRecorded{LocationID: "L1", Errors: []event.ProcessingError{whole}}},
		{event.TypeLocationRemoved, event.LocationRemoved{ID: "L1", Type: "file", Target: "/catalog/all.yaml"}},
	} {
		ev, err := event.New(m.typ, "location:default/generated-a", m.data, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		next++
		ev.Position = next
		more = append(more, ev)
	}
	if err := s.Apply(ctx, more[:1]); err != nil {
		t.Fatal(err)
	}
	if errs, err := s.LocationErrors(ctx, "L1"); err != nil || len(errs) != 0 {
		t.Fatalf("errors after clearing: %+v (%v)", errs, err)
	}
	if err := s.Apply(ctx, more[1:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Location(ctx, "L1"); !errors.Is(err, catalogstore.ErrNotFound) {
		t.Fatalf("removed location: %v, want ErrNotFound", err)
	}
	if errs, err := s.LocationErrors(ctx, "L1"); err != nil || len(errs) != 0 {
		t.Fatalf("errors of a removed location: %+v (%v)", errs, err)
	}
	views, err = s.ByKeys(ctx, []string{"location:default/generated-a", "component:default/service-1"})
	if err != nil || views[0] != nil || views[1] == nil || len(views[1].Status) != 0 {
		t.Fatalf("after removing the location: %+v (%v); want its entity gone and no status left", views, err)
	}
	if locs, err := s.Locations(ctx); err != nil || len(locs) != 0 {
		t.Fatalf("locations after removal %+v (%v)", locs, err)
	}
}

func testRefusesOtherPartitions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	evs := Components(t, 0, 2)
	evs[1].Partition = 1
	if err := s.Apply(ctx, evs); err == nil {
		t.Fatal("a store without the Partitioned feature applied an event of partition 1")
	}
	if v, err := s.ByKeys(ctx, []string{"component:default/service-0"}); err != nil || v[0] != nil {
		t.Fatalf("a refused batch was partly applied: %+v (%v)", v, err)
	}
}

func testPartitionInterleavings(t *testing.T, open Opener) {
	ctx := context.Background()
	evs := Partition(historyEvents(t, 400), 6)
	parts := ByPartition(evs)
	if len(parts) != 6 {
		t.Fatalf("events spread over %d partitions, want 6", len(parts))
	}
	want := event.PositionsOf(evs)

	// Partition after partition, in batches of one partition.
	a := open(t)
	for p := int32(0); p < 6; p++ {
		ApplyInBatches(t, a, parts[p], 100)
	}
	dumpA := Dump(t, a)
	if got, err := a.Positions(ctx); err != nil || !got.Covers(want) || !want.Covers(got) {
		t.Fatalf("positions %v (%v), want %v", got, err, want)
	}
	// Replaying everything changes nothing.
	ApplyInBatches(t, a, evs, 250)
	if Dump(t, a) != dumpA {
		t.Fatal("replaying the log changed the read model")
	}

	// The log's order, in batches that mix partitions.
	b := open(t)
	ApplyInBatches(t, b, evs, 37)
	if d := Dump(t, b); d != dumpA {
		t.Fatalf("batches mixing partitions fold another read model:\n%s", firstDiff(dumpA, d))
	}

	// Partitions in reverse order, one event at a time for the first.
	c := open(t)
	for p := int32(5); p >= 0; p-- {
		size := 61
		if p == 5 {
			size = 1
		}
		ApplyInBatches(t, c, parts[p], size)
	}
	if d := Dump(t, c); d != dumpA {
		t.Fatalf("partitions in another order fold another read model:\n%s", firstDiff(dumpA, d))
	}

	// A batch with events already applied and new ones: only the new apply.
	d := open(t)
	ApplyInBatches(t, d, parts[0][:len(parts[0])/2], 50)
	ApplyInBatches(t, d, evs, 10000)
	if dd := Dump(t, d); dd != dumpA {
		t.Fatalf("a batch overlapping applied events folds another read model:\n%s", firstDiff(dumpA, dd))
	}
}

func testConcurrentPartitions(t *testing.T, open Opener) {
	evs := Partition(historyEvents(t, 400), 6)
	parts := ByPartition(evs)
	seq := open(t)
	ApplyInBatches(t, seq, evs, 500)
	want := Dump(t, seq)

	conc := open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	// Two appliers per partition, as during a consumer-group rebalance, each
	// with its own batch size: every event is applied once.
	for p, pevs := range parts {
		for _, size := range []int{13, 40} {
			wg.Add(1)
			go func(p int32, pevs []event.Envelope, size int) {
				defer wg.Done()
				for i := 0; i < len(pevs); i += size {
					if err := conc.Apply(context.Background(), pevs[i:min(i+size, len(pevs))]); err != nil {
						errs <- err
						return
					}
				}
			}(p, pevs, size)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent apply: %v", err)
	}
	if got := Dump(t, conc); got != want {
		t.Fatalf("concurrent applies of partitions fold another read model:\n%s", firstDiff(want, got))
	}
}

// oneAtATimeEntities is the size of the generated catalog
// testOneAtATimeAsOneBatch folds both ways.
const oneAtATimeEntities = 150

// testOneAtATimeAsOneBatch folds a history of registrations, edits, removals
// and errors event by event into one store and in one batch into another: the
// fold of a batch must leave what applying its events one at a time leaves.
func testOneAtATimeAsOneBatch(t *testing.T, open Opener) {
	evs := historyEvents(t, oneAtATimeEntities)
	one, all := open(t), open(t)
	ApplyInBatches(t, one, evs, 1)
	ApplyInBatches(t, all, evs, len(evs))
	if w, g := Dump(t, one), Dump(t, all); w != g {
		t.Fatalf("one batch folds another read model than one event at a time:\n%s", firstDiff(w, g))
	}
	CompareReaders(t, one, all)
}

var historyCache sync.Map // n -> []event.Envelope

// historyEvents returns History(n, 7), made once per test binary.
func historyEvents(t *testing.T, n int) []event.Envelope {
	t.Helper()
	if v, ok := historyCache.Load(n); ok {
		return v.([]event.Envelope)
	}
	evs := History(t, n, 7)
	v, _ := historyCache.LoadOrStore(n, evs)
	return v.([]event.Envelope)
}

// FirstDiff shows the first line where two dumps (Dump, SQLiteTables,
// PostgresTables) differ, for a test's message.
func FirstDiff(want, got string) string { return firstDiff(want, got) }

// firstDiff shows the first line where two dumps differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + "\nwant: " + clip(w) + "\n got: " + clip(g)
		}
	}
	return "(no line differs)"
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}
