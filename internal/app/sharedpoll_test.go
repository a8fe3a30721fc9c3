package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// advancing is a reader of positions that move on by one in partition 0 at
// each reading, and counts its readings.
type advancing struct{ reads atomic.Int64 }

func (a *advancing) read(context.Context) (event.Positions, error) {
	return event.Positions{0: a.reads.Add(1)}, nil
}

// Fifty waits in flight at once are answered by one reader of the positions:
// about as many readings as one wait takes, not fifty times as many.
func TestSharedPollReadsOnceForEveryWait(t *testing.T) {
	t.Parallel()
	var a advancing
	p := newSharedPoll(a.read, time.Millisecond)
	const waits, readings = 50, 10
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, waits)
	for range waits {
		wg.Go(func() { errs <- p.WaitFor(ctx, event.Positions{0: readings}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("WaitFor: %v", err)
		}
	}
	// Waits that join after a reading each cost at most the readings left;
	// each polling on its own, they cost about waits*readings.
	if n := a.reads.Load(); n > 2*readings+2 {
		t.Fatalf("%d waits for the %dth reading read the positions %d times; want about %d", waits, readings, n, readings)
	}
	// A wait the last reading covers answers without a reading.
	before := a.reads.Load()
	if err := p.WaitFor(ctx, event.Positions{0: 1}); err != nil {
		t.Fatalf("WaitFor a covered position: %v", err)
	}
	if n := a.reads.Load(); n != before {
		t.Fatalf("a wait the last reading covered read the positions %d more times", n-before)
	}
}

// A reading's error ends the waits in flight with it; a wait whose context
// ends returns the context's error.
func TestSharedPollErrorsAndCancels(t *testing.T) {
	t.Parallel()
	boom := errors.New("positions unreadable")
	p := newSharedPoll(func(context.Context) (event.Positions, error) { return nil, boom }, time.Millisecond)
	if err := p.WaitFor(context.Background(), event.Positions{0: 1}); !errors.Is(err, boom) {
		t.Fatalf("WaitFor with failing readings: %v, want %v", err, boom)
	}
	var a advancing
	p = newSharedPoll(a.read, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitFor(ctx, event.Positions{0: 1 << 40}); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with an ended context: %v", err)
	}
	// Once no one waits, the reader stops.
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		polling := p.polling
		p.mu.Unlock()
		if !polling {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reader still polls with no one waiting")
		}
		time.Sleep(time.Millisecond)
	}
	n := a.reads.Load()
	time.Sleep(10 * time.Millisecond)
	if m := a.reads.Load(); m != n {
		t.Fatalf("the reader read %d times more with no one waiting", m-n)
	}
}
