package projector_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// partLog is an in-memory log of several partitions whose events are put in
// place by the test.
type partLog struct {
	mu    sync.Mutex
	parts map[int32][]event.Envelope
}

func newPartLog(partitions, perPartition int) *partLog {
	l := &partLog{parts: map[int32][]event.Envelope{}}
	for p := range int32(partitions) {
		for i := range perPartition {
			l.parts[p] = append(l.parts[p], event.Envelope{Partition: p, Position: int64(i) + 1})
		}
	}
	return l
}

func (l *partLog) Append(context.Context, []event.Envelope) (int64, error) { return 0, nil }

func (l *partLog) Partitions(context.Context) ([]int32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int32
	for p := range int32(len(l.parts)) {
		out = append(out, p)
	}
	return out, nil
}

func (l *partLog) ReadPartition(_ context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.parts[p]
	if after >= int64(len(evs)) {
		return nil, nil
	}
	return append([]event.Envelope(nil), evs[after:min(int(after)+limit, len(evs))]...), nil
}

func (l *partLog) Heads(context.Context) (event.Positions, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	heads := event.Positions{}
	for p, evs := range l.parts {
		heads[p] = int64(len(evs))
	}
	return heads, nil
}

func (l *partLog) WaitPartition(ctx context.Context, _ int32, after int64) (int64, error) {
	<-ctx.Done()
	return after, ctx.Err()
}

func (l *partLog) Close() error { return nil }

// busyTarget is a read model whose Apply takes a while and which counts the
// Applies running at once, across every busyTarget sharing its counters.
type busyTarget struct {
	running, most *atomic.Int32
	mu            sync.Mutex
	pos           event.Positions
}

func (b *busyTarget) Apply(_ context.Context, evs []event.Envelope) error {
	n := b.running.Add(1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	b.running.Add(-1)
	b.mu.Lock()
	b.pos[evs[0].Partition] = evs[len(evs)-1].Position
	b.mu.Unlock()
	return nil
}

func (b *busyTarget) Positions(context.Context) (event.Positions, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pos.Clone(), nil
}

// chanGate lets in at most cap(slots) batches at once.
type chanGate struct{ slots chan struct{} }

func (g chanGate) Enter(ctx context.Context, _ int32) (func(), error) {
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestProjectorsSharingAGateApplyThatManyBatchesAtOnce: two projectors of
// six partitions each, sharing a gate of one, never apply two batches at
// once, and still fold every partition to its head; without the gate they
// do apply several at once (the measure can fail).
func TestProjectorsSharingAGateApplyThatManyBatchesAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		gate     projector.Gate
		wantMost func(int32) bool
	}{
		{"gate of one", chanGate{make(chan struct{}, 1)}, func(m int32) bool { return m == 1 }},
		{"gate of two", chanGate{make(chan struct{}, 2)}, func(m int32) bool { return m >= 1 && m <= 2 }},
		{"no gate", nil, func(m int32) bool { return m > 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			log := newPartLog(6, 50)
			var running, most atomic.Int32
			var projs []*projector.Projector
			for range 2 {
				target := &busyTarget{running: &running, most: &most, pos: event.Positions{}}
				projs = append(projs, projector.New(log, target, projector.Options{BatchSize: 5, Gate: tc.gate}))
			}
			var wg sync.WaitGroup
			for _, p := range projs {
				wg.Go(func() {
					if _, err := p.CatchUp(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			heads, _ := log.Heads(ctx)
			for i, p := range projs {
				if !p.Applied().Covers(heads) {
					t.Fatalf("projector %d applied %s, want the heads %s", i, p.Applied(), heads)
				}
			}
			if !tc.wantMost(most.Load()) {
				t.Fatalf("%d batches were applied at once", most.Load())
			}
		})
	}
}

// sizingGate admits every batch, at most limit events each, and records the
// max each EnterSized was asked with.
type sizingGate struct {
	limit int
	mu    sync.Mutex
	asked []int
}

func (g *sizingGate) Enter(ctx context.Context, p int32) (func(), error) {
	_, leave, err := g.EnterSized(ctx, p, 0)
	return leave, err
}

func (g *sizingGate) EnterSized(_ context.Context, _ int32, max int) (int, func(), error) {
	g.mu.Lock()
	g.asked = append(g.asked, max)
	g.mu.Unlock()
	return g.limit, func() {}, nil
}

// sizeTarget records the size of every batch applied.
type sizeTarget struct {
	mu    sync.Mutex
	sizes []int
	pos   event.Positions
}

func (s *sizeTarget) Apply(_ context.Context, evs []event.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes = append(s.sizes, len(evs))
	s.pos[evs[0].Partition] = evs[len(evs)-1].Position
	return nil
}

func (s *sizeTarget) Positions(context.Context) (event.Positions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos.Clone(), nil
}

// TestASizingGateBoundsEachBatch: a projector whose gate is a SizingGate
// asks it with its BatchSize and reads at most the limit it answers; a limit
// of nothing or above BatchSize leaves BatchSize.
func TestASizingGateBoundsEachBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		limit       int
		wantBiggest int
	}{
		{"smaller", 3, 3},
		{"none", 0, 10},
		{"above the batch size", 50, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := newPartLog(2, 40)
			gate := &sizingGate{limit: tc.limit}
			target := &sizeTarget{pos: event.Positions{}}
			p := projector.New(log, target, projector.Options{BatchSize: 10, Gate: gate})
			if _, err := p.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			heads, _ := log.Heads(context.Background())
			if !p.Applied().Covers(heads) {
				t.Fatalf("applied %s, want the heads %s", p.Applied(), heads)
			}
			biggest := 0
			for _, n := range target.sizes {
				biggest = max(biggest, n)
			}
			if biggest != tc.wantBiggest {
				t.Fatalf("batches of %v events, want at most and some of %d", target.sizes, tc.wantBiggest)
			}
			for _, m := range gate.asked {
				if m != 10 {
					t.Fatalf("the gate was asked with %v, want the batch size 10 each time", gate.asked)
				}
			}
		})
	}
}
