package app

import (
	"context"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// serveShortBacklog is how many events of a partition a held-back reader
// of serve (the badges' projector, the evaluator) may have left to read and
// still go at once, past catalogFirst's waits, yields and turns. Those are
// for a catch-up of thousands of events, which would take the cores the
// catalog's requests need; the few events a fact report appends are its
// own request's work: the report answers once the badges' projector folded
// them and the evaluator rated them. Held back, a report waited out a yield
// of up to devCatalogFirstYield for each of the log's partitions the
// evaluator read, and the badges' projector's turns, and so answered in
// 4.8-6.5 s (p50) in a 2-minute soak at load 25-30.
const serveShortBacklog = 100

// shortBacklog lets a held-back reader whose backlog in a partition is at
// most most events read them at once (at most most of them), and holds it
// back as first does otherwise. It does not apply while first's ingester
// loads the configured catalogs, nor with a nil first.
type shortBacklog struct {
	first *catalogFirst
	most  int64
}

// short reports whether a reader at after in partition has at most most
// events left to read, by the heads first read last (at most headsEvery
// ago).
func (s shortBacklog) short(ctx context.Context, partition int32, after int64) bool {
	if s.first == nil || s.most <= 0 || s.first.isLoading() {
		return false
	}
	heads, err := s.first.readHeads(ctx)
	if err != nil {
		return false
	}
	return heads[partition]-after <= s.most
}

// shortGate is the projector.SizingGate of a held-back projector with a
// shortBacklog: applied answers the projector's positions.
type shortGate struct {
	shortBacklog
	applied func() event.Positions
}

var _ projector.SizingGate = (*shortGate)(nil)

// Enter is EnterSized with the projector's size.
func (g *shortGate) Enter(ctx context.Context, partition int32) (leave func(), err error) {
	_, leave, err = g.EnterSized(ctx, partition, 0)
	return leave, err
}

// EnterSized lets a batch of a short backlog in at once, at most most
// events; any other waits on catalogFirst.
func (g *shortGate) EnterSized(ctx context.Context, partition int32, size int) (limit int, leave func(), err error) {
	if g.applied != nil && g.short(ctx, partition, g.applied()[partition]) {
		limit = int(g.most)
		if size > 0 {
			limit = min(size, limit)
		}
		return limit, func() {}, ctx.Err()
	}
	return g.first.EnterSized(ctx, partition, size)
}
