package catalogstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

func openStore(t *testing.T) *catalogstore.SQLite {
	t.Helper()
	s, err := catalogstore.OpenSQLite(filepath.Join(t.TempDir(), "c.db"), catalogstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dumpOf(t *testing.T, s *catalogstore.SQLite) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestApplyIsIdempotentAndRecordsPosition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	evs := upserts(t, 0, 50)
	if err := s.Apply(ctx, evs[:30]); err != nil {
		t.Fatal(err)
	}
	once := dumpOf(t, s)
	// The same batch again, and an overlapping one: nothing doubles.
	if err := s.Apply(ctx, evs[:30]); err != nil {
		t.Fatal(err)
	}
	if dumpOf(t, s) != once {
		t.Fatal("applying a batch twice changed the read model")
	}
	if err := s.Apply(ctx, evs[20:]); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Positions(ctx)
	if err != nil || pos[0] != 50 {
		t.Fatalf("position %d (%v), want 50", pos, err)
	}
	// A fresh store fed the same events in other batch sizes is identical.
	s2 := openStore(t)
	for i := 0; i < 50; i += 7 {
		if err := s2.Apply(ctx, evs[i:min(i+7, 50)]); err != nil {
			t.Fatal(err)
		}
	}
	if dumpOf(t, s2) != dumpOf(t, s) {
		t.Fatal("the read model depends on batch boundaries")
	}
}

func TestRelationsBothWaysAndRemoval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	evs := upserts(t, 0, 3)
	if err := s.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	views, err := s.ByKeys(ctx, []string{"component:default/service-1", "group:default/team-1", "component:default/missing"})
	if err != nil {
		t.Fatal(err)
	}
	if views[2] != nil {
		t.Fatal("a missing key must answer nil")
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
	page, err = s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "relations.ownedBy", Values: []string{"group:default/team-1"}}}}, CountTotal: true})
	if err != nil || page.TotalItems != 0 {
		t.Fatalf("relations of a removed entity remain: %+v %v", page, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQueryFiltersFacetsAndPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.Apply(ctx, upserts(t, 0, 30)); err != nil {
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
		{"exists", catalogstore.Filter{{{Key: "spec.dependsOn"}}}, 30},
		{"list item", catalogstore.Filter{{{Key: "metadata.tags", Values: []string{"tier-1"}}}}, 10},
		{"list item as key", catalogstore.Filter{{{Key: "metadata.tags.tier-1"}}}, 10},
		{"annotation", catalogstore.Filter{{{Key: "metadata.annotations.github.com/project-slug", Values: []string{"org/service-7"}}}}, 1},
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

	facets, err := s.Facets(ctx, []string{"spec.type", "metadata.namespace"}, catalogstore.Filter{{{Key: "spec.lifecycle", Values: []string{"production"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := facets["spec.type"]; len(got) != 1 || got[0].Value != "service" || got[0].Count != 10 {
		t.Fatalf("spec.type facet %+v", got)
	}
	if got := facets["metadata.namespace"]; len(got) != 1 || got[0].Value != "default" || got[0].Count != 10 {
		t.Fatalf("namespace facet %+v", got)
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
	prev, err := s.Query(ctx, catalogstore.PageQuery{Order: order, Limit: 7, Before: pages[2].First})
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.Items) != 7 || prev.Items[0].Key != pages[1].Items[0].Key {
		t.Fatalf("previous page differs from the second page")
	}
}

func TestCachedCountsFollowWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	evs := upserts(t, 0, 20)
	if err := s.Apply(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}}}, CountTotal: true, Limit: 1}
	for i := 0; i < 2; i++ { // the second answer comes from the cache
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
