package badging

import (
	"context"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// headsLog is a log of two partitions whose heads move after calls reads
// of them.
type headsLog struct {
	event.PartitionedLog
	mu    sync.Mutex
	calls int
	after int
}

func (l *headsLog) Partitions(context.Context) ([]int32, error) { return []int32{0, 1}, nil }

func (l *headsLog) Heads(context.Context) (event.Positions, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls > l.after {
		return event.Positions{0: 6, 1: 5}, nil
	}
	return event.Positions{0: 5, 1: 5}, nil
}

// TestAnIdleEvaluatorLooksForNewEventsAgain checks that an idle evaluator
// of a log of several partitions looks at the heads again until they move,
// instead of looking once and sleeping out its wait: a fact report waits
// for it.
func TestAnIdleEvaluatorLooksForNewEventsAgain(t *testing.T) {
	t.Parallel()
	log := &headsLog{after: 1}
	e := &Evaluator{cfg: EvaluatorConfig{Log: log}, handled: event.Positions{}, changed: make(chan struct{})}
	e.advance(event.Positions{0: 5, 1: 5})
	e.waitForEvents(context.Background())
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.calls != log.after+1 {
		t.Fatalf("the heads were read %d times before the wait ended, want %d: once more after they had not moved %d times", log.calls, log.after+1, log.after)
	}
}
