package pgcatalog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// A read model that grows faster than autovacuum looks at it is analyzed by
// the store itself, so queries right after a first ingestion are planned on
// statistics of the rows written, not of empty tables.
func TestTheStoreAnalyzesItsTablesAsTheyGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	analyzed := func() bool {
		t.Helper()
		var n int
		// last_analyze is set by ANALYZE alone, never by autovacuum.
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_user_tables
			WHERE relname IN ('entities', 'search', 'relations', 'search_keys') AND last_analyze IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 4
	}
	// Autovacuum analyzes whole tables: it stays away from entities here,
	// so the statistics checked last are the store's.
	if _, err := s.Pool().Exec(ctx, `ALTER TABLE entities SET (autovacuum_enabled = false)`); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, 2500)
	// A few rows: no analyze of the store's own.
	if err := s.Apply(ctx, evs[:100]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if analyzed() {
		t.Fatal("the tables were analyzed after 100 events")
	}
	for i := 100; i < len(evs); i += 200 {
		if err := s.Apply(ctx, evs[i:min(i+200, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !analyzed() {
		if time.Now().After(deadline) {
			t.Fatal("the tables were not analyzed after 2,500 events")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The columns no query filters, joins or sorts on are left out of the
	// statistics, the others are in.
	stats := func(table string) []string {
		t.Helper()
		rows, err := s.Pool().Query(ctx, `SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1 ORDER BY attname`, table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}
	for _, c := range []struct {
		table   string
		with    []string
		without []string
	}{
		{"entities", []string{"eid", "key", "kind", "name", "namespace", "uid", "location_id", "managed_by"}, []string{"body", "hash", "ref", "updated_pos", "updated_partition"}},
		{"relations", []string{"origin", "ltype", "target", "lreverse"}, []string{"type", "target_ref", "reverse"}},
		{"search", []string{"eid", "kid", "value", "item"}, []string{"original"}},
	} {
		cols := stats(c.table)
		for _, w := range c.with {
			if !slices.Contains(cols, w) {
				t.Errorf("statistics of %s's columns %v: want %s", c.table, cols, w)
			}
		}
		for _, w := range c.without {
			if slices.Contains(cols, w) {
				t.Errorf("statistics of %s's columns %v: want no %s", c.table, cols, w)
			}
		}
	}
	// The store's ANALYZE of entities counts as one of the whole table, so
	// autovacuum does not analyze it again: no changes since, once the
	// server's statistics have caught up with the last fold.
	if err := s.AnalyzeTables(ctx); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		var mods int64
		if err := s.Pool().QueryRow(ctx, `SELECT n_mod_since_analyze FROM pg_stat_user_tables
			WHERE relid = to_regclass('entities')`).Scan(&mods); err != nil {
			t.Fatal(err)
		}
		if mods == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entities has %d changes not analyzed after the store's ANALYZE", mods)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The ANALYZE that ends a replay samples fewer rows than the default
// target's: the histogram of entities' keys, distinct in every row, has as
// many bounds as the target allows (31 at 30, 101 at the default of 100).
// The store's own ANALYZE after growth keeps the default.
func TestAReplayEndsWithASmallerSample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, 2000)
	if err := s.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	bounds := func() int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, `SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats
			WHERE schemaname = current_schema() AND tablename = 'entities' AND attname = 'key'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := bounds(); n != 31 {
		t.Errorf("after EndBulk, entities.key's histogram has %d bounds, want 31 (statistics target 30)", n)
	}
	if err := s.AnalyzeTables(ctx); err != nil {
		t.Fatal(err)
	}
	if n := bounds(); n != 101 {
		t.Errorf("after the store's ANALYZE, entities.key's histogram has %d bounds, want 101 (the default target)", n)
	}
}
