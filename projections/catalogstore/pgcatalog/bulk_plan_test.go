package pgcatalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// A batch folded in bulk looks its entities up through an index on key
// (in a replay, the hash index entities_key_replay that stands in for
// entities_key), though a bulk load leaves the tables without statistics:
// without them the planner takes a batch's 2,000 keys for most of the table
// and reads every entity, bodies and all, once per batch.
func TestABulkFoldLooksItsEntitiesUpByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, 6000)
	for i := 0; i < len(evs); i += 2000 {
		if err := s.Apply(ctx, evs[i:i+2000]); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	rows, err := s.Pool().Query(ctx, `SELECT key FROM entities ORDER BY eid DESC LIMIT 2000`)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(keys) != 2000 {
		t.Fatalf("%d keys read: %v", len(keys), err)
	}
	plan := func(bulk bool) string {
		t.Helper()
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if bulk {
			if err := pgcatalog.BulkSettings(ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+pgcatalog.LoadEntitiesSQL, keys)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	// The control: the same statement outside a bulk fold's settings reads
	// the whole table, so the check below can fail.
	if p := plan(false); !strings.Contains(p, "Seq Scan on entities") {
		t.Fatalf("without statistics and outside bulk settings the look-up was expected to scan entities, the case this test guards against; plan:\n%s", p)
	}
	if p := plan(true); strings.Contains(p, "Seq Scan") || !strings.Contains(p, "entities_key_replay") {
		t.Fatalf("a replay's look-up of 2,000 entities does not probe the hash index on key; plan:\n%s", p)
	}
}
