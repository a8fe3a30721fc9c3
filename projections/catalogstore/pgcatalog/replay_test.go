package pgcatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// searchKeyState answers whether search has its primary key (as a
// constraint on eid, kid, value) and whether the replay's plain index on eid
// exists.
func searchKeyState(t *testing.T, s *pgcatalog.Store) (pkey, eidIndex bool) {
	t.Helper()
	if err := s.Pool().QueryRow(context.Background(), `SELECT
		EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('search') AND contype = 'p'
			AND conname = 'search_pkey'
			AND pg_get_constraintdef(oid) = 'PRIMARY KEY (eid, kid, value)'),
		to_regclass('search_eid') IS NOT NULL`).Scan(&pkey, &eidIndex); err != nil {
		t.Fatal(err)
	}
	return pkey, eidIndex
}

// TestAReplayFoldsWithoutTheSearchKeyAndBuildsItAtTheEnd checks that a replay
// folds search rows with a plain index on eid in place of search's primary
// key, that entities it rewrites across batches (edits, removals) lose their
// old rows through that index, that EndBulk builds the primary key again and
// drops the plain index, and that the tables equal those of a fold with every
// index; and that a store opened after a replay stopped part-way builds the
// key again.
func TestAReplayFoldsWithoutTheSearchKeyAndBuildsItAtTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.History(t, 150, 5)
	kept := openStore(t)
	storetest.ApplyInBatches(t, kept, evs, 7)

	url := pgtest.URL(t)
	s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pkey, eidIndex := searchKeyState(t, s); !pkey || eidIndex {
		t.Fatalf("a fresh store: search's primary key %v, search_eid %v; want the key alone", pkey, eidIndex)
	}
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if pkey, eidIndex := searchKeyState(t, s); pkey || !eidIndex {
		t.Fatalf("in a replay: search's primary key %v, search_eid %v; want search_eid alone", pkey, eidIndex)
	}
	storetest.ApplyInBatches(t, s, evs, 7)
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if pkey, eidIndex := searchKeyState(t, s); !pkey || eidIndex {
		t.Fatalf("after EndBulk: search's primary key %v, search_eid %v; want the key alone", pkey, eidIndex)
	}
	want := storetest.PostgresTables(t, kept)
	if got := storetest.PostgresTables(t, s); got != want {
		t.Fatal("a replay without search's primary key folded other rows than a fold with it")
	}

	// A replay stopped part-way: the next store opened builds the key.
	url2 := pgtest.URL(t)
	stopped, err := pgcatalog.Open(ctx, url2, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopped.Close()
	if err := stopped.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, stopped, evs[:len(evs)/2], 7)
	reopened, err := pgcatalog.Open(ctx, url2, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if pkey, eidIndex := searchKeyState(t, reopened); !pkey || eidIndex {
		t.Fatalf("reopened after a stopped replay: search's primary key %v, search_eid %v; want the key alone", pkey, eidIndex)
	}
	storetest.ApplyInBatches(t, reopened, evs[len(evs)/2:], 7)
	if got := storetest.PostgresTables(t, reopened); got != want {
		t.Fatal("a replay stopped part-way and carried on folded other rows than one fold")
	}
}
