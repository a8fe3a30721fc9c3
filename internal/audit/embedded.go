package audit

import (
	"context"
	"fmt"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/projector"
)

// Embedded serves the audit endpoints from the embedded event log, and
// verifies the history read model against it when History is set. It is safe
// for concurrent use as far as its log and history are.
type Embedded struct {
	// Log is the embedded event log; required.
	Log *sqlitelog.Log
	// History, when set, is the history read model a verification checks
	// against the log and against a fresh fold of it (made in memory).
	History history.Reader
}

// Events reads the log through its filtered read: the events after q.After[0]
// that match q, in log order, at most q.Limit.
func (a Embedded) Events(ctx context.Context, q EventQuery) ([]event.Envelope, error) {
	return a.Log.ReadFiltered(ctx, q.After[0], q.Limit, sqlitelog.Filter{Subject: q.Subject, Types: q.Types, Actor: q.Actor, Correlation: q.Correlation, From: q.From, To: q.To})
}

// Verify recomputes the log's hash chain from its start (checked against
// checkpoints, position → link), and with a History, also checks every event
// the history recorded against the log and every version against a fresh
// fold. Problems are named by event id in the report; an error means the
// check could not run.
func (a Embedded) Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	if a.History == nil {
		return a.Log.Verify(ctx, sqlitelog.VerifyOptions{Checkpoints: checkpoints, Progress: progress})
	}
	return verifyAll(ctx, a.Log, a.History, checkpoints, progress)
}

// CaughtUpHistory is a history reader that first waits (up to 30 s) until the
// history has applied everything Target answers, so a client that just saw a
// write in the catalog sees it in the history too. Each read answers the
// wait's error (naming the read model behind) instead of a stale answer.
type CaughtUpHistory struct {
	history.Reader
	// Target answers the positions the history must reach before a read: the
	// catalog read model's (projector.PositionReader.Positions) or the
	// log's heads.
	Target func(context.Context) (event.Positions, error)
	// Waiter follows the history read model's progress.
	Waiter projector.Waiter
}

// Wait blocks until the history has reached Target's positions, 30 s at most.
func (h CaughtUpHistory) Wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	target, err := h.Target(ctx)
	if err != nil {
		return fmt.Errorf("catalog read model: %w", err)
	}
	if err := h.Waiter.WaitFor(ctx, target); err != nil {
		return fmt.Errorf("history read model: %w", err)
	}
	return nil
}

// Versions waits, then reads.
func (h CaughtUpHistory) Versions(ctx context.Context, key string, after, limit int) ([]history.Version, error) {
	if err := h.Wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Versions(ctx, key, after, limit)
}

// Current waits, then reads.
func (h CaughtUpHistory) Current(ctx context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	if err := h.Wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Current(ctx, at, after, limit)
}

// Digests waits, then reads.
func (h CaughtUpHistory) Digests(ctx context.Context, after history.Pos, limit int) ([]history.EventDigest, error) {
	if err := h.Wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Digests(ctx, after, limit)
}

// Changes waits, then reads.
func (h CaughtUpHistory) Changes(ctx context.Context, after history.Pos, limit int) ([]history.Version, error) {
	if err := h.Wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Changes(ctx, after, limit)
}
