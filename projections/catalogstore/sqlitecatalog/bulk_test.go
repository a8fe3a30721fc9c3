package sqlitecatalog_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestABulkLoadKeepsTheReverseRelationsIndexed folds components in a live
// bulk load (BeginBulk, as the projector does behind a long backlog, while
// readers read): the relations toward an entity, which every entity a
// reader is given reads, come from relations_target_bulk, by bucket of
// origins, instead of relations_target (dropped: its random inserts were
// the load's largest cost) or a scan of the whole relations table; lookups
// by key, lists in creation order and a location's files keep their
// indexes; filters', facets' and names' indexes are dropped and built again
// by EndBulk, and what is read during the load (pages in creation order and
// sorted by name, entities with their relations capped, relations filters)
// is what is read after it. The components' positions are spread over
// several buckets, as a long load's are.
func TestABulkLoadKeepsTheReverseRelationsIndexed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := storetest.OpenSQLiteFile(t)
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, 300)
	for i := range evs {
		evs[i].Position = int64(i)*97 + 1 // 29,000 positions: 8 buckets
	}
	// team-0, created last, owns 8 of them, one in each bucket: its
	// capped read samples some of its ownerOf relations.
	evs = append(evs, groupUpsert(t, "team-0", evs[len(evs)-1].Position+1))
	for start := 0; start < len(evs); start += 100 {
		if err := s.Apply(ctx, evs[start:min(start+100, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	indexed := func(name string) bool {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if indexed("relations_target") {
		t.Error("relations_target kept during a live bulk load: each batch's relations update it all over")
	}
	if !indexed("relations_target_bulk") {
		t.Fatal("relations_target_bulk missing during a live bulk load")
	}
	for _, ix := range []string{"search_key_value", "relations_type_target", "entities_kind_name", "entities_name_key"} {
		if indexed(ix) {
			t.Errorf("%s kept during a bulk load: every entity folded updates it at a random place", ix)
		}
	}
	// The reads of a live load keep their indexes: lookups by key, lists in
	// creation order and the ingester's files of a location.
	for _, ix := range []string{"entities_key", "entities_kind_eid", "entities_location"} {
		if !indexed(ix) {
			t.Errorf("%s dropped during a live bulk load", ix)
		}
	}
	// The statement that reads an entity's incoming relations searches
	// relations_target_bulk, bucket by bucket.
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+s.IncomingRelationsSQL(), `["component:default/a","component:default/b"]`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if text := strings.Join(plan, "; "); !strings.Contains(text, "relations_target_bulk") || strings.Contains(text, "SCAN r") || !strings.Contains(text, "entities_eid_ref") {
		t.Errorf("incoming relations during a bulk load: plan %q, want a search of relations_target_bulk, and the origins' refs from entities_eid_ref", text)
	}

	reads := func() []any {
		t.Helper()
		page, err := s.Query(ctx, catalogstore.PageQuery{Limit: 400, CountTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		// A page sorted by name, whose indexes the load dropped, sorts its
		// matches instead: the same page.
		byName, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, Order: []catalogstore.Order{{Field: "metadata.name"}}})
		if err != nil {
			t.Fatal(err)
		}
		// Filters on a reverse type (targets of dependsOn) and on a
		// declared one.
		filtered, err := s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{
			{{Key: "relations.dependencyOf", Values: []string{"component:default/service-7", "component:default/service-250"}}},
			{{Key: "relations.dependsOn", Values: []string{"component:default/service-13"}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		out := []any{page, byName, filtered}
		for _, key := range []string{"component:default/service-10", "component:default/service-202", "component:default/service-299", "group:default/team-0"} {
			v, counts, err := s.ByKeyCapped(ctx, key, 2)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v, counts)
		}
		return out
	}
	during := reads()
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ix := range []string{"search_key_value", "relations_type_target", "entities_kind_name", "entities_name_key", "relations_target"} {
		if !indexed(ix) {
			t.Errorf("%s not built again by EndBulk", ix)
		}
	}
	if indexed("relations_target_bulk") {
		t.Error("relations_target_bulk kept after EndBulk")
	}
	after := reads()
	if !reflect.DeepEqual(during, after) {
		t.Fatalf("read during the load:\n%+v\nafter it:\n%+v", during, after)
	}
	page := during[0].(catalogstore.Page)
	if page.TotalItems != 301 || len(page.Items) != 301 || len(during[1].(catalogstore.Page).Items) != 20 {
		t.Fatalf("during the load %d of %d entities, %d by name", len(page.Items), page.TotalItems, len(during[1].(catalogstore.Page).Items))
	}
	if n := len(during[2].(catalogstore.Page).Items); n != 2 {
		t.Errorf("relations filters matched %d entities, want 2 (service-10, service-253)", n)
	}
	var reverse int
	for _, v := range page.Items {
		for _, r := range v.Relations {
			if r.Type == "dependencyOf" {
				reverse++
			}
		}
	}
	if reverse == 0 {
		t.Fatal("no entity has a relation toward it: the test reads no incoming relation")
	}
	if team := during[9].(*catalogstore.EntityView); team == nil || len(team.Relations) != 2 || during[10].(map[string]int)["ownerOf"] != 8 {
		t.Fatalf("team-0 during the load: %+v, counts %v; want 2 of its 8 ownerOf", during[9], during[10])
	}
	if during[3].(*catalogstore.EntityView) == nil || during[4].(map[string]int)["dependencyOf"] != 1 {
		t.Fatalf("service-10 during the load: counts %v; want its one dependencyOf", during[4])
	}
}

// groupUpsert is the upsert of group name, with uid uid-name, by location
// L1 at position pos.
func groupUpsert(t *testing.T, name string, pos int64) event.Envelope {
	t.Helper()
	return upsertWithUID(t, map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
		"metadata": map[string]any{"name": name}, "spec": map[string]any{"type": "team", "children": []any{}},
	}, "uid-"+name, pos)
}

// upsertWithUID is the upsert of the entity of body, with uid, by location
// L1 at position pos.
func upsertWithUID(t *testing.T, body map[string]any, uid string, pos int64) event.Envelope {
	t.Helper()
	e, err := catalog.NewEntity(body)
	if err != nil {
		t.Fatal(err)
	}
	raw := e.JSON()
	ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
		Ref: e.Ref().String(), UID: uid, Hash: catalog.HashJSON(raw), Entity: json.RawMessage(raw),
		LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
	}, event.Meta{Actor: "location:L1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = pos
	return ev
}
