package app

import (
	"context"
	"fmt"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/projector"
)

// embeddedAudit serves the audit endpoints from the embedded event log, and
// verifies the history read model against it when hist is set.
type embeddedAudit struct {
	log     *sqlitelog.Log
	hist    history.Reader
	scratch string
}

var _ httpapi.AuditLog = embeddedAudit{}

// Events reads the log through its filtered read.
func (a embeddedAudit) Events(ctx context.Context, q httpapi.EventQuery) ([]event.Envelope, error) {
	return a.log.ReadFiltered(ctx, q.After[0], q.Limit, sqlitelog.Filter{Subject: q.Subject, Types: q.Types, Actor: q.Actor, Correlation: q.Correlation, From: q.From, To: q.To})
}

// Verify recomputes the log's hash chain.
func (a embeddedAudit) Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	if a.hist == nil {
		return a.log.Verify(ctx, sqlitelog.VerifyOptions{Checkpoints: checkpoints, Progress: progress})
	}
	return verifyAll(ctx, a.log, a.hist, a.scratch, checkpoints, progress)
}

// caughtUpHistory is a history reader that first waits until the history has
// applied everything the catalog read model has, so a client that just saw a
// write in the catalog sees it in the history too.
type caughtUpHistory struct {
	history.Reader
	// catalog is the catalog read model's progress, hist the history's.
	catalog projector.PositionReader
	hist    projector.Waiter
}

func (h caughtUpHistory) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	target, err := h.catalog.Positions(ctx)
	if err != nil {
		return fmt.Errorf("catalog read model: %w", err)
	}
	if err := h.hist.WaitFor(ctx, target); err != nil {
		return fmt.Errorf("history read model: %w", err)
	}
	return nil
}

// Versions waits, then reads.
func (h caughtUpHistory) Versions(ctx context.Context, key string, after, limit int) ([]history.Version, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Versions(ctx, key, after, limit)
}

// Current waits, then reads.
func (h caughtUpHistory) Current(ctx context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Current(ctx, at, after, limit)
}

// Digests waits, then reads.
func (h caughtUpHistory) Digests(ctx context.Context, after history.Pos, limit int) ([]history.EventDigest, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Digests(ctx, after, limit)
}

// Changes waits, then reads.
func (h caughtUpHistory) Changes(ctx context.Context, after history.Pos, limit int) ([]history.Version, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Reader.Changes(ctx, after, limit)
}
