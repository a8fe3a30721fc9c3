package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/projector"
)

// TestAShortBacklogDoesNotYield: with a catalog write in flight that does
// not end, a held-back read (the evaluator's) and a held-back batch (the
// badges' projector's) of a short backlog go on at once, at most most
// events; a longer backlog, or any while the ingester loads, still waits.
func TestAShortBacklogDoesNotYield(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	log := event.SinglePartition(sl)
	target := newGatedTarget()
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	appendN(t, log, 3)
	if err := catalog.WaitFor(ctx, event.Positions{0: 3}); err != nil {
		t.Fatal(err)
	}
	writes := newForeground()
	defer writes.begin()() // a write in flight all along
	first := &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute, writes: writes, yieldWait: time.Minute}
	held := heldBackLog{PartitionedLog: log, first: first, short: shortBacklog{first: first, most: 2}}

	// Two events left of three: at once, both.
	rctx, stop := context.WithTimeout(ctx, 30*time.Second)
	evs, err := held.ReadPartition(rctx, 0, 1, 10)
	stop()
	if err != nil || len(evs) != 2 {
		t.Fatalf("a read of a short backlog with a write in flight: %d events, %v; want 2 at once", len(evs), err)
	}
	// Three left: the read yields to the write.
	mustWait(t, readLater(ctx, held, 0), 300*time.Millisecond, "a write was in flight and three events were left, more than most")

	gate := &shortGate{shortBacklog: held.short, applied: func() event.Positions { return event.Positions{0: 1} }}
	gctx, stop := context.WithTimeout(ctx, 30*time.Second)
	limit, leave, err := gate.EnterSized(gctx, 0, 1000)
	stop()
	if err != nil || limit != 2 {
		t.Fatalf("a batch of a short backlog with a write in flight: limit %d, %v; want 2 at once", limit, err)
	}
	leave()

	// While the ingester loads, nothing bypasses.
	loading := make(chan struct{})
	first.loading = loading
	mustWait(t, readLaterAfter(ctx, held, 0, 2), 300*time.Millisecond, "the ingester was loading")
	entered := make(chan time.Time, 1)
	go func() {
		if _, leave, err := gate.EnterSized(ctx, 0, 1000); err == nil {
			leave()
			entered <- time.Now()
		}
	}()
	mustWait(t, entered, 300*time.Millisecond, "the ingester was loading")
}

// readLaterAfter reads partition of held after after in the background, and
// sends the time it went on.
func readLaterAfter(ctx context.Context, held heldBackLog, partition int32, after int64) <-chan time.Time {
	read := make(chan time.Time, 1)
	go func() {
		if _, err := held.ReadPartition(ctx, partition, after, 10); err == nil {
			read <- time.Now()
		}
	}()
	return read
}
