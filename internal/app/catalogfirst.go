package app

import (
	"context"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// catalogFirst holds the other readers of dev's log (the history's and the
// badges' projectors, the badge evaluator) back while the catalog's
// projector is far behind the log's head, as during the first ingestion of
// a large catalog. On two cores every fold competes for the same CPU: the
// catalog is what a write waits for and what "ingested and queryable" means,
// so it goes first, and the others fold the backlog once it is readable.
// They are held back at most maxWait per read, so a catalog that never
// catches up (a store that keeps failing) does not stop them.
type catalogFirst struct {
	log     event.PartitionedLog
	catalog *projector.Projector
	// behind is how many events the catalog may be behind before the others
	// wait; maxWait bounds one wait.
	behind  int64
	maxWait time.Duration
}

// The defaults of dev's catalogFirst.
const (
	// devCatalogFirstBehind is ten of dev's fold batches: a write of a few
	// locations never reaches it, a catalog of thousands of entities does.
	devCatalogFirstBehind = 10 * devFoldBatch
	// devCatalogFirstMaxWait bounds one wait of a held-back reader.
	devCatalogFirstMaxWait = 20 * time.Second
)

// wait returns once the catalog's projector is within behind events of the
// log's head, after maxWait, or when ctx ends.
func (g *catalogFirst) wait(ctx context.Context) {
	deadline := time.Now().Add(g.maxWait)
	for ctx.Err() == nil {
		heads, err := g.log.Heads(ctx)
		if err != nil || g.catalog.Applied().Behind(heads) <= g.behind {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		// Wake when the catalog reaches the head seen, or look again soon:
		// the head moves while a large location is read.
		wctx, cancel := context.WithTimeout(ctx, min(left, 250*time.Millisecond))
		_ = g.catalog.WaitFor(wctx, heads)
		cancel()
	}
}

// heldBackLog is a log whose reads wait for catalogFirst first; everything
// else goes to the log as is.
type heldBackLog struct {
	event.PartitionedLog
	first *catalogFirst
}

// ReadPartition waits while the catalog is far behind, then reads.
func (l heldBackLog) ReadPartition(ctx context.Context, partition int32, after int64, limit int) ([]event.Envelope, error) {
	l.first.wait(ctx)
	return l.PartitionedLog.ReadPartition(ctx, partition, after, limit)
}
