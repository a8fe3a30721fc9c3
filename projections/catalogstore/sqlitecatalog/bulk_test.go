package sqlitecatalog_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestABulkLoadKeepsTheReverseRelationsIndexed folds components in a live
// bulk load (BeginBulk, as the projector does behind a long backlog, while
// readers read): the relations toward an entity, which every entity a
// reader is given reads, still come from relations_target instead of a scan
// of the whole relations table, as lookups by key, lists in creation order and
// a location's files keep their indexes; filters', facets' and names' indexes
// are dropped and built again by EndBulk, and the pages read during the load
// (in creation order, and sorted by name) are those read after it.
func TestABulkLoadKeepsTheReverseRelationsIndexed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := storetest.OpenSQLiteFile(t)
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, storetest.Components(t, 0, 300)); err != nil {
		t.Fatal(err)
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
	if !indexed("relations_target") {
		t.Fatal("relations_target dropped during a live bulk load")
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
	// The statement that reads an entity's incoming relations.
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT r.target, r.reverse, o.ref FROM relations r JOIN entities o ON o.eid = r.origin
		WHERE r.target IN (?, ?)`, "component:default/a", "component:default/b")
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
	if text := strings.Join(plan, "; "); !strings.Contains(text, "relations_target") || strings.Contains(text, "SCAN r") {
		t.Errorf("incoming relations during a bulk load: plan %q, want a search of relations_target", text)
	}

	q := catalogstore.PageQuery{Limit: 300, CountTotal: true}
	during, err := s.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// A page sorted by name, whose indexes the load dropped, sorts its
	// matches instead: the same page.
	byName := catalogstore.PageQuery{Limit: 20, Order: []catalogstore.Order{{Field: "metadata.name"}}}
	duringByName, err := s.Query(ctx, byName)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ix := range []string{"search_key_value", "relations_type_target", "entities_kind_name", "entities_name_key"} {
		if !indexed(ix) {
			t.Errorf("%s not built again by EndBulk", ix)
		}
	}
	after, err := s.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	afterByName, err := s.Query(ctx, byName)
	if err != nil {
		t.Fatal(err)
	}
	if len(duringByName.Items) != 20 || len(afterByName.Items) != 20 {
		t.Fatalf("a page of 20 by name: %d entities during the load, %d after", len(duringByName.Items), len(afterByName.Items))
	}
	for i := range duringByName.Items {
		if d, a := duringByName.Items[i].Ref, afterByName.Items[i].Ref; d != a {
			t.Fatalf("page by name, entity %d: %s during the load, %s after", i, d, a)
		}
	}
	if during.TotalItems != 300 || len(during.Items) != len(after.Items) {
		t.Fatalf("during the load %d of %d entities, after it %d", len(during.Items), during.TotalItems, len(after.Items))
	}
	var reverse int
	for i := range during.Items {
		d, a := during.Items[i], after.Items[i]
		if d.Ref != a.Ref || len(d.Relations) != len(a.Relations) {
			t.Fatalf("entity %d: %s with %d relations during the load, %s with %d after", i, d.Ref, len(d.Relations), a.Ref, len(a.Relations))
		}
		for j := range d.Relations {
			if d.Relations[j] != a.Relations[j] {
				t.Fatalf("%s: relation %d is %+v during the load, %+v after", d.Ref, j, d.Relations[j], a.Relations[j])
			}
			if d.Relations[j].Type == "dependencyOf" {
				reverse++
			}
		}
	}
	if reverse == 0 {
		t.Fatal("no entity has a relation toward it: the test reads no incoming relation")
	}
}
