package app

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// enterLater enters first's gate for partition on a goroutine of its own and
// sends the leave, once in, with the time it got in.
func enterLater(ctx context.Context, first *catalogFirst, partition int32) <-chan func() {
	in := make(chan func(), 1)
	go func() {
		if leave, err := first.Enter(ctx, partition); err == nil {
			in <- leave
		}
	}()
	return in
}

// TestHeldBackBatchesTakeTurns: with turns, at most that many held-back
// batches run at once across partitions; the next goes in when one leaves,
// and a batch whose turn comes while a catalog write is in flight still
// yields to it.
func TestHeldBackBatchesTakeTurns(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0, 1, 2)
	target := newGatedTarget()
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	writes := newForeground()
	first := &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute,
		writes: writes, yieldWait: time.Minute, turns: &catchUpTurns{most: 1}}

	leave0, err := first.Enter(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	in1 := enterLater(ctx, first, 1)
	select {
	case <-in1:
		t.Fatal("a second batch went in while the one batch allowed ran")
	case <-time.After(300 * time.Millisecond):
	}
	// The write begins while batch 1 waits for its turn: once the turn comes,
	// it waits for the write too.
	end := writes.begin()
	leave0()
	leave0() // a second leave changes nothing
	select {
	case <-in1:
		t.Fatal("a batch went in, its turn come, while a catalog write was in flight")
	case <-time.After(300 * time.Millisecond):
	}
	in2 := enterLater(ctx, first, 2)
	end()
	var leave1 func()
	select {
	case leave1 = <-in1:
	case <-time.After(30 * time.Second):
		t.Fatal("the batch still waits after the first left and the write ended")
	}
	select {
	case <-in2:
		t.Fatal("a batch went in while the one batch allowed ran")
	case <-time.After(300 * time.Millisecond):
	}
	leave1()
	select {
	case leave2 := <-in2:
		leave2()
	case <-time.After(30 * time.Second):
		t.Fatal("the third batch still waits after the second left")
	}
}

// countingTarget counts the Applies running at once across every
// countingTarget sharing its counters.
type countingTarget struct {
	running, most *atomic.Int32
	keptPositions
}

// keptPositions is a fake read model's positions: the last event it applied
// of each partition. The zero value holds none; it is safe for concurrent
// use.
type keptPositions struct {
	mu  sync.Mutex
	pos event.Positions
}

// applied records evs, a batch of one partition, as applied.
func (k *keptPositions) applied(evs []event.Envelope) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pos == nil {
		k.pos = event.Positions{}
	}
	k.pos[evs[0].Partition] = evs[len(evs)-1].Position
}

// Positions returns the positions applied so far.
func (k *keptPositions) Positions(context.Context) (event.Positions, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pos.Clone(), nil
}

func (c *countingTarget) Apply(_ context.Context, evs []event.Envelope) error {
	n := c.running.Add(1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	time.Sleep(time.Millisecond)
	c.running.Add(-1)
	c.applied(evs)
	return nil
}

// TestHeldBackProjectorsCatchUpOneBatchAtATime: the history's and the badges'
// projectors of the projector role, gated by catalogFirst with batches of
// one, catch up every partition once the catalog folded it, never two
// batches at once; without the bound they run several at once.
func TestHeldBackProjectorsCatchUpOneBatchAtATime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		batches int
		ok      func(most int32) bool
	}{
		{"one at a time", 1, func(m int32) bool { return m == 1 }},
		{"unbounded", 0, func(m int32) bool { return m > 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := newMemLog(0, 1, 2, 3)
			for p := range int32(4) {
				log.add(p, 40)
			}
			target := newGatedTarget()
			close(target.gate)
			catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
			go catalog.Run(ctx)
			first := &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute}
			if tc.batches > 0 {
				first.turns = &catchUpTurns{most: tc.batches}
			}
			var running, most atomic.Int32
			var projs []*projector.Projector
			for range 2 { // the history and the badges
				projs = append(projs, projector.New(log, &countingTarget{running: &running, most: &most},
					projector.Options{BatchSize: 4, Gate: first.gate()}))
			}
			for _, p := range projs {
				go p.Run(ctx)
			}
			want := event.Positions{0: 40, 1: 40, 2: 40, 3: 40}
			wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
			defer wcancel()
			for _, p := range projs {
				if err := p.WaitFor(wctx, want); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.ok(most.Load()) {
				t.Fatalf("%d batches applied at once", most.Load())
			}
		})
	}
}

// enterSizedLater enters first's gate for partition with size on a
// goroutine of its own and sends the batch once in.
func enterSizedLater(ctx context.Context, first *catalogFirst, partition int32, size int) <-chan turnIn {
	in := make(chan turnIn, 1)
	go func() {
		if limit, leave, err := first.EnterSized(ctx, partition, size); err == nil {
			in <- turnIn{limit, leave}
		}
	}()
	return in
}

// TestBatchesThatYieldedToAnEditRunAsTheReadsAfterItAllow: held-back
// batches whose turns came while no read was in flight, but that then
// yielded to a catalog write (an edit's refresh), run after it as the reads
// in flight then allow: one at a time, of busyBatch events. Before, they all
// started whole when the write ended, beside the reads that follow an edit
// and the next edit: the slowest edit of twenty in the production bench.
func TestBatchesThatYieldedToAnEditRunAsTheReadsAfterItAllow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0, 1, 2, 3)
	target := newGatedTarget()
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	writes, reads := newForeground(), newReadLoad()
	first := &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute,
		writes: writes, yieldWait: time.Minute,
		turns: &catchUpTurns{most: 2, reads: reads, busyMost: 1, busyBatch: 200, pause: 0.25, maxPause: time.Second}}

	// Two batches run with no read in flight; two more wait for their turns.
	var running []turnIn
	for part := range int32(2) {
		b := mustEnter(t, enterSizedLater(ctx, first, part, 1000), "no read nor write in flight")
		if b.limit != 1000 {
			t.Fatalf("a batch with no read in flight may read %d events, want 1000", b.limit)
		}
		running = append(running, b)
	}
	in2, in3 := enterSizedLater(ctx, first, 2, 1000), enterSizedLater(ctx, first, 3, 1000)
	mustNotEnter(t, in2, 100*time.Millisecond, "most batches ran")
	// An edit's write begins; the running batches end, so the waiting ones
	// get their turns with no read in flight, and yield to the write.
	endWrite := writes.begin()
	for _, b := range running {
		b.leave()
	}
	mustNotEnter(t, in2, 300*time.Millisecond, "a catalog write was in flight")
	mustNotEnter(t, in3, 0, "a catalog write was in flight")
	// The edit's reads begin, and its write ends.
	endRead := reads.begin()
	defer endRead()
	endWrite()
	var b turnIn
	select {
	case b = <-in2:
	case b = <-in3:
	case <-time.After(30 * time.Second):
		t.Fatal("no batch went in after the write ended")
	}
	if b.limit != 200 {
		t.Errorf("a batch that started while a read was in flight may read %d events, want busyBatch (200)", b.limit)
	}
	select {
	case <-in2:
		t.Fatal("two batches ran at once while a read was in flight")
	case <-in3:
		t.Fatal("two batches ran at once while a read was in flight")
	case <-time.After(300 * time.Millisecond):
	}
	b.leave()
}
