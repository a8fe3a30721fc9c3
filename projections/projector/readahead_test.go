package projector_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// prepRecorder is a store that records the batches it is given to prepare
// and to apply; onApply, when set, runs inside each Apply.
type prepRecorder struct {
	mu       sync.Mutex
	pos      int64
	prepared []*event.Envelope  // the first event of each slice prepared
	applied  [][]event.Envelope // each batch applied
	onApply  func(batch []event.Envelope)
}

func (s *prepRecorder) Prepare(evs []event.Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prepared = append(s.prepared, &evs[0])
}

func (s *prepRecorder) Apply(_ context.Context, evs []event.Envelope) error {
	if s.onApply != nil {
		s.onApply(evs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied = append(s.applied, evs)
	s.pos = evs[len(evs)-1].Position
	return nil
}

func (s *prepRecorder) Positions(context.Context) (event.Positions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return event.Positions{0: s.pos}, nil
}

// wasPrepared reports whether batch is a slice Prepare was given.
func (s *prepRecorder) wasPrepared(batch []event.Envelope) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.prepared {
		if p == &batch[0] {
			return true
		}
	}
	return false
}

// With ReadAhead, each batch after the first is read and prepared while the
// one before is applied: Apply gets the very slice Prepare got, and the
// store still sees every event once, in order.
func TestReadAheadPreparesTheBatchesItApplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &memLog{}
	if _, err := log.Append(ctx, upserts(t, 0, 100)); err != nil {
		t.Fatal(err)
	}
	s := &prepRecorder{}
	p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, ReadAhead: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if pos, err := p.CatchUp(ctx); err != nil || pos[0] != 100 {
		t.Fatalf("caught up to %v (%v), want 100", pos, err)
	}
	var next int64 = 1
	for i, b := range s.applied {
		for _, ev := range b {
			if ev.Position != next {
				t.Fatalf("batch %d holds position %d, want %d", i, ev.Position, next)
			}
			next++
		}
		if prepared := s.wasPrepared(b); prepared != (i > 0) {
			t.Errorf("batch %d (from %d) prepared: %v, want %v", i, b[0].Position, prepared, i > 0)
		}
	}
	if next != 101 {
		t.Fatalf("applied up to %d, want 100", next-1)
	}
}

// countingLog is a memLog that tells each read it served.
type countingLog struct {
	*memLog
	reads chan int
}

func (l *countingLog) Read(ctx context.Context, after int64, limit int) ([]event.Envelope, error) {
	evs, err := l.memLog.Read(ctx, after, limit)
	l.reads <- len(evs)
	return evs, err
}

// A batch read ahead short of a whole batch (the log's head then) is read
// again when its turn comes: events appended meanwhile fill it, as they
// would without ReadAhead, so a projector does not take an old head for the
// log's (and leave bulk mode early).
func TestAShortBatchReadAheadIsReadAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &countingLog{memLog: &memLog{}, reads: make(chan int, 100)}
	if _, err := log.Append(ctx, upserts(t, 0, 30)); err != nil {
		t.Fatal(err)
	}
	s := &prepRecorder{}
	var once sync.Once
	s.onApply = func([]event.Envelope) {
		once.Do(func() {
			<-log.reads // the first batch's
			select {
			case n := <-log.reads:
				if n != 5 {
					t.Errorf("the read ahead got %d events, want the 5 at the head", n)
				}
			case <-time.After(time.Minute): // a guard against a hang, not a measure
				t.Error("the next batch was not read ahead while the first was applied")
			}
			if _, err := log.Append(ctx, upserts(t, 30, 30)); err != nil {
				t.Error(err)
			}
		})
	}
	p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, ReadAhead: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if pos, err := p.CatchUp(ctx); err != nil || pos[0] != 60 {
		t.Fatalf("caught up to %v (%v), want 60", pos, err)
	}
	if len(s.applied) < 2 || len(s.applied[1]) != 25 || s.applied[1][0].Position != 26 {
		var sizes []int
		for _, b := range s.applied {
			sizes = append(sizes, len(b))
		}
		t.Fatalf("batches of %v events, want a second of 25 (positions 26 to 50)", sizes)
	}
	if s.wasPrepared(s.applied[1]) {
		t.Error("the short batch read ahead was prepared")
	}
}

// A short batch is read at the log's head: nothing is read ahead after it,
// so an edit's fold reads the log as often as without ReadAhead (the batch,
// then the empty read that finds the head).
func TestNothingIsReadAheadOfAShortBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &countingLog{memLog: &memLog{}, reads: make(chan int, 100)}
	if _, err := log.Append(ctx, upserts(t, 0, 1)); err != nil {
		t.Fatal(err)
	}
	s := &prepRecorder{}
	p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, ReadAhead: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if pos, err := p.CatchUp(ctx); err != nil || pos[0] != 1 {
		t.Fatalf("caught up to %v (%v), want 1", pos, err)
	}
	if n := len(log.reads); n != 2 {
		t.Fatalf("%d reads of the log, want 2", n)
	}
}
