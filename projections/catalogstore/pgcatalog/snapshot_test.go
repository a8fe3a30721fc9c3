package pgcatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestPrefetchedLookupsAnswerAsSingleOnes: a snapshot that looked keys up in
// one query answers Lookup for each of them, present or absent, as one that
// looks them up one by one.
func TestPrefetchedLookupsAnswerAsSingleOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := pgcatalog.Open(ctx, pgtest.URL(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := storetest.Components(t, 0, 5)
	if err := st.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	keys := []string{evs[0].Subject, evs[3].Subject, "component:default/absent", evs[4].Subject}
	single, err := st.Snapshot(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := st.Snapshot(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := bulk.(interface{ Prefetch([]string) })
	if !ok {
		t.Fatal("the PostgreSQL snapshot does not prefetch")
	}
	p.Prefetch(keys)
	for _, k := range append(keys, evs[1].Subject) { // the last one was not prefetched
		want, wantOK := single.Lookup(k)
		got, gotOK := bulk.Lookup(k)
		if got != want || gotOK != wantOK {
			t.Errorf("Lookup(%s) = %+v, %v after Prefetch; want %+v, %v", k, got, gotOK, want, wantOK)
		}
	}
	// Answered from the prefetch once: a second Lookup reads again, and
	// finds the same.
	if got, ok := bulk.Lookup(evs[0].Subject); !ok || got.UID == "" {
		t.Fatalf("second Lookup(%s) = %+v, %v", evs[0].Subject, got, ok)
	}
	if k, ok := single.Lookup(evs[0].Subject); !ok || k.UID == "" {
		t.Fatalf("Lookup(%s) = %+v, %v: the test reads nothing", evs[0].Subject, k, ok)
	}
	var _ refresh.State = bulk
}

// TestOwnedStreams: the entities of a location are yielded as the query
// streams them, not read whole first. Not parallel: it measures the heap.
func TestOwnedStreams(t *testing.T) {
	storetest.CheckOwnedStreams(t, openStore(t))
}
