package pgcatalog_test

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

// TestUpgradeKeepsItemKeysWrittenAsRows opens a read model written before
// migration 0005 (each list item's key a row of its own, no item column):
// Open adds the column without a refold, the old rows still answer filters
// and facets on item keys, and entities written after answer them from
// marked item rows alone.
func TestUpgradeKeepsItemKeysWrittenAsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	old := fstest.MapFS{}
	for _, name := range []string{"migrations/0001_catalog.sql", "migrations/0002_relations_origin.sql", "migrations/0003_name_key.sql", "migrations/0004_relations_once.sql"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := pgkit.Migrate(ctx, conn, "catalogstore", old, "migrations/*.sql"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO entities(eid, key, ref, uid, kind, namespace, name, hash, body, updated_pos, updated_partition) VALUES (1, 'component:default/old', 'component:default/old', 'u', 'component', 'default', 'old', 'h', '{"apiVersion":"v1","kind":"Component","metadata":{"name":"old","namespace":"default","tags":["go"]}}', 1, 0)`,
		`INSERT INTO search_keys(id, key) VALUES (101, 'metadata.name'), (102, 'metadata.tags'), (103, 'metadata.tags.go')`,
		`INSERT INTO search VALUES (1, 101, 'old', NULL), (1, 102, 'go', NULL), (1, 103, 'true', NULL)`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	goKey := func(values ...string) []string {
		t.Helper()
		p, err := s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "metadata.tags.go", Values: values}}},
			Order: []catalogstore.Order{{Field: "metadata.name"}}})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, v := range p.Items {
			keys = append(keys, v.Key)
		}
		return keys
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
	var rows, items, itemKeys int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE item) FROM search WHERE eid <> 1 AND kid = (SELECT id FROM search_keys WHERE key = 'metadata.tags')`).Scan(&rows, &items); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM search s JOIN search_keys k ON k.id = s.kid WHERE s.eid <> 1 AND k.key LIKE 'metadata.tags.%'`).Scan(&itemKeys); err != nil {
		t.Fatal(err)
	}
	if rows != 6 || items != 6 || itemKeys != 0 {
		t.Fatalf("new entities' tags: %d rows, %d marked items and %d rows of item keys, want 6, 6 and none", rows, items, itemKeys)
	}
}
