package projector_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// bulkRecorder is a store that records its bulk loads: each BeginBulk and
// EndBulk, and the positions it applied in between.
type bulkRecorder struct {
	mu    sync.Mutex
	pos   int64
	bulk  bool
	calls []string
	// inBulk counts the events applied in bulk mode.
	inBulk int
}

func (s *bulkRecorder) Apply(_ context.Context, evs []event.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos = evs[len(evs)-1].Position
	if s.bulk {
		s.inBulk += len(evs)
	}
	return nil
}

func (s *bulkRecorder) Positions(context.Context) (event.Positions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return event.Positions{0: s.pos}, nil
}

func (s *bulkRecorder) BeginBulk(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bulk = true
	s.calls = append(s.calls, "begin")
	return nil
}

func (s *bulkRecorder) EndBulk(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bulk = false
	s.calls = append(s.calls, "end")
	return nil
}

// While Options.Loading is open, a projector more than one batch behind the
// log folds in bulk mode, however far below BulkThreshold its backlog is,
// and leaves it at the head; once Loading is closed, the same backlog is
// folded with every index, as BulkThreshold says.
func TestALoadIsFoldedInBulkModeWhileLoadingIsOpen(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name       string
		closed     bool
		backlog    int
		wantCalls  int
		wantInBulk int
	}{
		{name: "loading, backlog of four batches", backlog: 100, wantCalls: 2, wantInBulk: 100},
		{name: "loading, backlog of one batch", backlog: 25, wantCalls: 0},
		{name: "loaded, backlog of four batches", closed: true, backlog: 100, wantCalls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			log := &memLog{}
			if _, err := log.Append(ctx, upserts(t, 0, tc.backlog)); err != nil {
				t.Fatal(err)
			}
			loading := make(chan struct{})
			if tc.closed {
				close(loading)
			}
			s := &bulkRecorder{}
			p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, BulkThreshold: 1000, Loading: loading, Logger: quiet})
			if pos, err := p.CatchUp(ctx); err != nil || pos[0] != int64(tc.backlog) {
				t.Fatalf("caught up to %v (%v), want %d", pos, err, tc.backlog)
			}
			if len(s.calls) != tc.wantCalls || s.inBulk != tc.wantInBulk || s.bulk {
				t.Fatalf("bulk calls %v, %d events folded in bulk mode, left in bulk mode %v; want %d calls and %d events, ended",
					s.calls, s.inBulk, s.bulk, tc.wantCalls, tc.wantInBulk)
			}
		})
	}
}
