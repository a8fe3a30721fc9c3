package sqlitecatalog_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// TestUpgradeKeepsItemKeysWrittenAsRows opens a read model written before
// migration 0004 (each list item's key a row of its own, no item column):
// Open adds the column without a refold, the old rows still answer filters
// on item keys, and entities written after answer them from marked item rows
// alone, beside the old ones.
func TestUpgradeKeepsItemKeysWrittenAsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	old := fstest.MapFS{}
	for _, name := range []string{"migrations/0001_catalog.sql", "migrations/0002_name_search.sql", "migrations/0003_relations_once.sql"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{Migrations: old, MigrationGlob: "migrations/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	// service-0 as the store wrote it before: tags [go, tier-0, backend].
	for _, stmt := range []string{
		`INSERT INTO entities(eid, key, ref, uid, kind, namespace, name, hash, body, updated_pos) VALUES (1, 'component:default/old', 'component:default/old', 'u', 'component', 'default', 'old', 'h', CAST('{"apiVersion":"v1","kind":"Component","metadata":{"name":"old","namespace":"default","tags":["go"]}}' AS BLOB), 1)`,
		`INSERT INTO search_keys(id, key) VALUES (10, 'kind'), (11, 'metadata.tags'), (12, 'metadata.tags.go')`,
		`INSERT INTO search VALUES (1, 1, 'old', NULL), (1, 10, 'component', 'Component'), (1, 11, 'go', NULL), (1, 12, 'true', NULL)`,
		`INSERT INTO positions VALUES ('` + catalogstore.ProjectionName + `', 1)`,
	} {
		if _, err := w.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	w.Close()
	r.Close()

	s, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pos, err := s.Positions(ctx); err != nil || pos[0] != 1 {
		t.Fatalf("positions after the upgrade: %v, %v; want 1, kept: nothing is folded again", pos, err)
	}
	goKey := func(values ...string) []string {
		t.Helper()
		p, err := s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "metadata.tags.go", Values: values}}},
			Order: []catalogstore.Order{{Field: "metadata.name"}}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range p.Items {
			names = append(names, v.Key)
		}
		return names
	}
	if got := goKey("true"); len(got) != 1 || got[0] != "component:default/old" {
		t.Fatalf("metadata.tags.go=true after the upgrade: %v, want the old entity", got)
	}
	if err := s.Apply(ctx, storetest.Components(t, 2, 2)); err != nil {
		t.Fatal(err)
	}
	for _, values := range [][]string{{"true"}, nil} {
		if got := goKey(values...); len(got) != 3 || got[0] != "component:default/old" {
			t.Fatalf("metadata.tags.go %v beside new entities: %v, want the old entity and both new ones", values, got)
		}
	}
	f, err := s.Facets(ctx, []string{"metadata.tags.go"}, nil)
	if err != nil || len(f["metadata.tags.go"]) != 1 || f["metadata.tags.go"][0] != (catalogstore.FacetCount{Value: "true", Count: 3}) {
		t.Fatalf("facet metadata.tags.go: %v, %v; want true: 3", f, err)
	}
	db, err := sql.Open("sqlite", sqlitekit.DSN(path, "query_only(ON)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, items int
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(item), 0) FROM search WHERE eid <> 1 AND kid = (SELECT id FROM search_keys WHERE key = 'metadata.tags')`).Scan(&rows, &items); err != nil {
		t.Fatal(err)
	}
	var itemKeys int
	if err := db.QueryRow(`SELECT count(*) FROM search s JOIN search_keys k ON k.id = s.kid WHERE s.eid <> 1 AND k.key LIKE 'metadata.tags.%'`).Scan(&itemKeys); err != nil {
		t.Fatal(err)
	}
	if rows != 6 || items != 6 || itemKeys != 0 {
		t.Fatalf("new entities' tags: %d rows, %d marked items and %d rows of item keys, want 6, 6 and none", rows, items, itemKeys)
	}
}
