package pgcatalog_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestUpgradeDeletesTheRowsOfColumnKeys opens a read model in the shape it
// had before migration 0006 (search rows of kind and metadata.name, with
// their spellings): after the upgrade its tables are row for row those of
// the same history folded afresh, and it answers the same, nothing folded
// again.
func TestUpgradeDeletesTheRowsOfColumnKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, s, storetest.History(t, 300, 7), 50)
	wantAnswers := storetest.Dump(t, s)
	wantTables := storetest.PostgresTables(t, s)
	s.Close()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`INSERT INTO search_keys(key) VALUES ('kind'), ('metadata.name')`,
		`INSERT INTO search(eid, kid, value, original) SELECT eid, (SELECT id FROM search_keys WHERE key = 'kind'), kind,
			NULLIF(convert_from(body, 'UTF8')::json ->> 'kind', kind) FROM entities`,
		`INSERT INTO search(eid, kid, value, original) SELECT eid, (SELECT id FROM search_keys WHERE key = 'metadata.name'), name,
			NULLIF(substr(ref, strpos(ref, '/') + 1), name) FROM entities`,
		`DELETE FROM schema_migrations WHERE version = 'catalogstore/migrations/0006_column_rows.sql'`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var kinds, originals int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(original) FROM search WHERE kid = (SELECT id FROM search_keys WHERE key = 'kind')`).Scan(&kinds, &originals); err != nil {
		t.Fatal(err)
	}
	if kinds < 100 || originals == 0 {
		t.Fatalf("the old shape holds %d kind rows, %d with a spelling of their own: the fixture changed", kinds, originals)
	}

	s, err = pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := storetest.PostgresTables(t, s); got != wantTables {
		t.Fatalf("tables after the upgrade differ from a fresh fold's: %s", storetest.FirstDiff(wantTables, got))
	}
	var keys int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM search_keys WHERE key IN ('kind', 'metadata.name')`).Scan(&keys); err != nil || keys != 0 {
		t.Fatalf("search keys of kind and metadata.name after the upgrade: %d, %v; want none", keys, err)
	}
	if got := storetest.Dump(t, s); got != wantAnswers {
		t.Fatalf("answers after the upgrade differ: %s", storetest.FirstDiff(wantAnswers, got))
	}
}
