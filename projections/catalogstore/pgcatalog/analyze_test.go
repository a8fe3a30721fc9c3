package pgcatalog_test

import (
	"context"
	"slices"
	"testing"
	"time"

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
	// The entities' bodies are left out of their statistics, every other
	// column is in.
	var cols []string
	rows, err := s.Pool().Query(ctx, `SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'entities' ORDER BY attname`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cols, "body") || !slices.Contains(cols, "kind") || !slices.Contains(cols, "key") {
		t.Fatalf("statistics of entities' columns %v: want kind and key, not body", cols)
	}
}
