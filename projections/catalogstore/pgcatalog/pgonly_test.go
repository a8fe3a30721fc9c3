package pgcatalog_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

func TestProcessesStartingAtOnceMigrateOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	stores := make([]*pgcatalog.Store, 5)
	errs := make([]error, 5)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgcatalog.Open(context.Background(), url, pgcatalog.Options{MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files (%v)", err)
	}
	var n, distinct int
	if err := stores[0].Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations WHERE version LIKE 'catalogstore/%'`).Scan(&n, &distinct); err != nil || n != len(files) || distinct != n {
		t.Fatalf("%d catalog migrations recorded, %d distinct (%v), want each of the %d once", n, distinct, err, len(files))
	}
	// One process writes, another reads it.
	if err := stores[1].Apply(context.Background(), storetest.Components(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if p, err := stores[2].Query(context.Background(), catalogstore.PageQuery{CountTotal: true}); err != nil || p.TotalItems != 5 {
		t.Fatalf("another process reads %d entities (%v), want 5", p.TotalItems, err)
	}
}

func TestRefusesPartitionsBeyondTheEidSpace(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	evs := storetest.Components(t, 0, 1)
	evs[0].Partition = pgcatalog.MaxPartitions
	if err := s.Apply(context.Background(), evs); err == nil {
		t.Fatalf("applied an event of partition %d", pgcatalog.MaxPartitions)
	}
}

func TestServerDownGivesErrorsAndStoreRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.StartCluster(t)
	s, err := pgcatalog.Open(ctx, c.NewDatabase(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Components(t, 0, 20)
	if err := s.Apply(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(short); err == nil {
		t.Fatal("ping succeeded with the server down")
	}
	if err := s.Apply(short, evs[10:]); err == nil {
		t.Fatal("apply succeeded with the server down")
	}
	if _, err := s.Query(short, catalogstore.PageQuery{CountTotal: true}); err == nil {
		t.Fatal("query succeeded with the server down")
	}
	if _, err := s.Facets(short, []string{"kind"}, nil); err == nil {
		t.Fatal("facets succeeded with the server down")
	}
	if _, err := s.Positions(short); err == nil {
		t.Fatal("positions succeeded with the server down")
	}
	if _, err := s.ByKeys(short, []string{"component:default/service-1"}); err == nil {
		t.Fatal("by keys succeeded with the server down")
	}
	if _, err := s.Location(short, "L1"); err == nil || err == catalogstore.ErrNotFound {
		t.Fatalf("location with the server down: %v, want a failure other than not found", err)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// The pool drops its dead connections and the failed batch applies now.
	if err := s.Apply(ctx, evs[10:]); err != nil {
		t.Fatalf("apply after the restart: %v", err)
	}
	p, err := s.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil || p.TotalItems != 20 {
		t.Fatalf("after the restart: %d entities (%v), want 20", p.TotalItems, err)
	}
	if pos, err := s.Positions(ctx); err != nil || pos[0] != 20 {
		t.Fatalf("positions after the restart %v (%v), want 0:20", pos, err)
	}
}

func TestCachedAnswersFollowWritesOfOtherProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func() *pgcatalog.Store {
		s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	reader, writer := open(), open()
	evs := storetest.Components(t, 0, 30)
	if err := writer.Apply(ctx, evs[:10]); err != nil {
		t.Fatal(err)
	}
	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "spec.type", Values: []string{"service"}}}}, CountTotal: true, Limit: 1}
	check := func(want int) {
		t.Helper()
		for i := 0; i < 2; i++ { // the second answer may come from the cache
			p, err := reader.Query(ctx, q)
			if err != nil || p.TotalItems != want {
				t.Fatalf("count %d (%v), want %d", p.TotalItems, err, want)
			}
			f, err := reader.Facets(ctx, []string{"spec.type"}, catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}}})
			if err != nil || len(f["spec.type"]) != 3 || f["spec.type"][1].Value != "service" || f["spec.type"][1].Count != want {
				t.Fatalf("facet %+v (%v), want %d services", f, err, want)
			}
		}
	}
	check(4)
	// Another process writes, in another partition: the reader's cache follows.
	part := storetest.Components(t, 0, 30)[10:]
	for i := range part {
		part[i].Partition, part[i].Position = 3, int64(i+1)
	}
	if err := writer.Apply(ctx, part); err != nil {
		t.Fatal(err)
	}
	check(10)
}

func TestBulkLoadDropsIndexesAndRebuildsThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	indexes := func(st *pgcatalog.Store) int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
			AND indexname IN ('search_key_value', 'relations_type_target', 'relations_target', 'entities_kind_name')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// paused counts the tables whose autovacuum a bulk load turned off.
	paused := func(st *pgcatalog.Store) int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
			WHERE ns.nspname = current_schema() AND 'autovacuum_enabled=false' = ANY(c.reloptions)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	count := func(st *pgcatalog.Store, owner string) int {
		t.Helper()
		p, err := st.Query(ctx, catalogstore.PageQuery{CountTotal: true, Filter: catalogstore.Filter{{{Key: "spec.owner", Values: []string{owner}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return p.TotalItems
	}
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if n := indexes(s); n != 0 {
		t.Fatalf("%d bulk indexes left in bulk mode", n)
	}
	if n := paused(s); n != 4 {
		t.Fatalf("in bulk mode, autovacuum paused on %d tables, want 4", n)
	}
	evs := storetest.Components(t, 0, 80)
	storetest.ApplyInBatches(t, s, evs[:40], 7)
	if n := count(s, "team-3"); n != 1 {
		t.Fatalf("in bulk mode, %d components of team-3, want 1", n)
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if n := indexes(s); n != 4 {
		t.Fatalf("%d bulk indexes after EndBulk, want 4", n)
	}
	if n := paused(s); n != 0 {
		t.Fatalf("after EndBulk, autovacuum paused on %d tables", n)
	}
	storetest.ApplyInBatches(t, s, evs[40:], 7)
	if n := count(s, "team-3"); n != 2 {
		t.Fatalf("after bulk mode, %d components of team-3, want 2", n)
	}
	// A crash in bulk mode: the next store opened builds the indexes again.
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := indexes(s2); n != 4 {
		t.Fatalf("%d bulk indexes after a reopen, want 4", n)
	}
	if n := paused(s2); n != 0 {
		t.Fatalf("after a reopen, autovacuum paused on %d tables", n)
	}
}
