package app

import (
	"context"
	"time"

	"backlot.dev/backlot/projections/projector"
)

// badgesFirst is the history projector's gate in a process that runs the
// badge evaluator: while a full evaluation runs (a policy changed, so every
// entity is rated), a batch of the history waits, at most maxWait, for it to
// end. On two cores the history's catch-up after a large ingestion, which the
// catalog's requests slow down (catalogFirst), is otherwise still running when
// a policy is registered, and takes a share of the cores the evaluation and
// the badge fold need before the verdicts are readable; the history catches
// up once they are, and folds a batch every maxWait meanwhile. Its other
// waits are inner's (nil: none), which a batch enters after this one.
//
// The badges' projector has one too, over the evaluator's NoFullRating: while
// a full evaluation rates its pages, the badge read model's fold of the
// verdicts appended so far waits (it took about a fifth of the two cores while
// the pages were read and rated), and folds them once the last page is rated,
// while the evaluation appends its last events and waits for that fold.
type badgesFirst struct {
	inner projector.Gate
	// idle returns a channel closed once no full evaluation runs (nil: the
	// gate holds nothing back).
	idle    func() <-chan struct{}
	maxWait time.Duration
}

// badgesFirstMaxWait bounds one wait of a history batch for a full
// evaluation: a batch of the history (dev's 500 events) is a few tens of
// milliseconds of CPU, so one every two seconds takes a few percent of the
// cores from the evaluation and still moves a long catch-up along.
const badgesFirstMaxWait = 2 * time.Second

// hold waits until no full evaluation runs, maxWait passes or ctx ends.
func (g *badgesFirst) hold(ctx context.Context) {
	if g.idle == nil {
		return
	}
	t := time.NewTimer(g.maxWait)
	defer t.Stop()
	select {
	case <-g.idle():
	case <-t.C:
	case <-ctx.Done():
	}
}

// Enter waits for the evaluation (hold), then enters inner.
func (g *badgesFirst) Enter(ctx context.Context, partition int32) (func(), error) {
	_, leave, err := g.EnterSized(ctx, partition, 0)
	return leave, err
}

// EnterSized waits for the evaluation (hold), then enters inner, sized when
// inner is a projector.SizingGate.
func (g *badgesFirst) EnterSized(ctx context.Context, partition int32, size int) (int, func(), error) {
	g.hold(ctx)
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	switch in := g.inner.(type) {
	case nil:
		return size, func() {}, nil
	case projector.SizingGate:
		return in.EnterSized(ctx, partition, size)
	default:
		leave, err := in.Enter(ctx, partition)
		return size, leave, err
	}
}
