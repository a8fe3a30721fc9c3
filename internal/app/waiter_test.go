package app

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// TestNearWaiterEndsWithTheLocalFold: a wait ends when this process's
// catalog projector folds the position, long before the next poll, and
// ends at a poll for a partition the projector does not fold.
func TestNearWaiterEndsWithTheLocalFold(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0, 1)
	target := newGatedTarget(0)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	// The projector folds partition 0 alone, as a member of a group that
	// was assigned it; another process folds partition 1 (the test, here).
	go catalog.RunPartitions(ctx, []int32{0})
	const poll = time.Minute
	near := &nearWaiter{poll: &projector.PollWaiter{Reader: target, Interval: poll}}
	near.local.Store(catalog)

	log.add(0, 3)
	done := make(chan error, 1)
	go func() { done <- near.WaitFor(ctx, event.Positions{0: 3}) }()
	select {
	case err := <-done:
		t.Fatalf("the wait ended (%v) before the fold", err)
	case <-time.After(200 * time.Millisecond):
	}
	start := time.Now()
	close(target.gate)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(poll / 2):
		t.Fatalf("the wait still runs %s after the fold", time.Since(start))
	}
	if got := near.Applied()[0]; got != 3 {
		t.Fatalf("Applied reports %d in partition 0, want the fold's 3", got)
	}

	// Partition 1: folded elsewhere, seen by the poll.
	log.add(1, 2)
	if err := target.Apply(ctx, []event.Envelope{{Partition: 1, Position: 2}}); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := near.WaitFor(wctx, event.Positions{1: 2}); err != nil {
		t.Fatal(err)
	}
}

// countingPositions is a PositionReader that counts its reads.
type countingPositions struct {
	projector.PositionReader
	reads atomic.Int32
}

func (c *countingPositions) Positions(ctx context.Context) (event.Positions, error) {
	c.reads.Add(1)
	return c.PositionReader.Positions(ctx)
}

// TestNearWaiterAsksTheStoreNothingForALocalFold: a wait for positions the
// local projector already folded (the state feed's wait for each message's
// event, in a serve process that folds the catalog) reads no positions from
// the store.
func TestNearWaiterAsksTheStoreNothingForALocalFold(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0)
	target := newGatedTarget()
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	log.add(0, 5)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := catalog.WaitFor(wctx, event.Positions{0: 5}); err != nil {
		t.Fatal(err)
	}
	store := &countingPositions{PositionReader: target}
	near := &nearWaiter{poll: &projector.PollWaiter{Reader: store}}
	near.local.Store(catalog)
	for pos := range int64(5) {
		if err := near.WaitFor(wctx, event.Positions{0: pos + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.reads.Load(); n != 0 {
		t.Fatalf("%d reads of the store's positions for waits the local projector had folded, want none", n)
	}
}
