package projector_test

import (
	"context"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// heldPositions is a PositionReader whose reads wait for release or their
// context's end, as a query does; each read's context is sent to asked.
type heldPositions struct {
	asked   chan context.Context
	release chan struct{}
}

func (h *heldPositions) Positions(ctx context.Context) (event.Positions, error) {
	h.asked <- ctx
	select {
	case <-h.release:
		return event.Positions{0: 1}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestAPollInFlightOutlivesTheWait: a WaitFor that ends (its context
// cancelled) while a poll's read is in flight answers at once, and the read
// goes on uncancelled (a cancelled query costs a PostgreSQL store its
// connection).
func TestAPollInFlightOutlivesTheWait(t *testing.T) {
	t.Parallel()
	h := &heldPositions{asked: make(chan context.Context, 1), release: make(chan struct{})}
	w := &projector.PollWaiter{Reader: h}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.WaitFor(ctx, event.Positions{0: 5}) }()
	var read context.Context
	select {
	case read = <-h.asked:
	case <-time.After(20 * time.Second):
		t.Fatal("WaitFor read no positions")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("WaitFor of positions never reached answered nil")
		}
	case <-time.After(20 * time.Second):
		close(h.release)
		t.Fatal("WaitFor did not end with its context while a read was in flight")
	}
	if err := read.Err(); err != nil {
		t.Fatalf("the read in flight was cancelled with the wait: %v", err)
	}
	close(h.release)
}
