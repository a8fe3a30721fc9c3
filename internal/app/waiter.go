package app

import (
	"context"
	"sync/atomic"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// nearWaiter waits for the catalog read model as its PollWaiter does, and
// returns as soon as the catalog's projector of this process (once set)
// reports the fold, instead of at the next poll: in a serve process that
// runs the projector role, a write's wait, and a refresh's wait for the
// catalog to reach the log's head before it decides, end when the fold
// does, not up to PollWaiter's interval later. The projector folds only the
// partitions the consumer group assigned to the process; the poll sees the
// others. It is safe for concurrent use.
type nearWaiter struct {
	poll  *projector.PollWaiter
	local atomic.Pointer[projector.Projector]
}

var _ projector.Waiter = (*nearWaiter)(nil)

// WaitFor returns once the read model covers want, as polled or as folded
// by the local projector, or when ctx ends.
func (w *nearWaiter) WaitFor(ctx context.Context, want event.Positions) error {
	local := w.local.Load()
	if local == nil {
		return w.poll.WaitFor(ctx, want)
	}
	if local.Applied().Covers(want) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	folded := make(chan struct{})
	go func() {
		if local.WaitFor(ctx, want) == nil {
			close(folded)
		}
	}()
	polled := make(chan error, 1)
	go func() { polled <- w.poll.WaitFor(ctx, want) }()
	select {
	case <-folded:
		return nil
	case err := <-polled:
		return err
	}
}

// Applied returns the positions the last poll saw, merged with those the
// local projector folded.
func (w *nearWaiter) Applied() event.Positions {
	got := w.poll.Applied().Clone()
	if local := w.local.Load(); local != nil {
		got.Merge(local.Applied())
	}
	return got
}
