package pgcatalog_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// A store folds at most two transactions of a replay at once: the Applies of
// three partitions, called side by side while the three are locked, leave
// two transactions waiting for their partition's lock and the third Apply
// waiting for a turn; once the locks go, every batch is folded.
func TestAReplayFoldsTwoTransactionsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	// Partitions no other test folds: the advisory locks are the database's.
	const first = int32(1000)
	evs := storetest.Components(t, 0, 30)
	batches := make([][]event.Envelope, 3)
	for i, e := range evs {
		k := i % 3
		e.Partition = first + int32(k)
		e.Position = int64(len(batches[k]) + 1)
		batches[k] = append(batches[k], e)
	}
	locker, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Release()
	for k := range 3 {
		if _, err := locker.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, pgcatalog.PositionLockClass, first+int32(k)); err != nil {
			t.Fatal(err)
		}
	}
	// waiting counts the transactions waiting for one of the locks.
	waiting := func() int {
		t.Helper()
		var n int
		if err := locker.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid = $1 AND objid BETWEEN $2 AND $3 AND objsubid = 2`,
			pgcatalog.PositionLockClass, first, first+2).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for k := range batches {
		wg.Go(func() { errs[k] = s.Apply(ctx, batches[k]) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for waiting() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions wait for their partition's lock; want 2", waiting())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The third Apply waits for a turn, not for its partition's lock.
	for range 25 {
		if n := waiting(); n != 2 {
			t.Fatalf("%d transactions wait for their partition's lock; want 2, the third Apply waiting for a turn", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := locker.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("partition %d: %v", first+int32(k), err)
		}
	}
	pos, err := s.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range batches {
		if pos[first+int32(k)] != int64(len(batches[k])) {
			t.Fatalf("partition %d folded to %d; want %d", first+int32(k), pos[first+int32(k)], len(batches[k]))
		}
	}
}
