package app

import (
	"context"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/httpapi"
)

// embeddedAudit serves the audit endpoints from the embedded event log.
type embeddedAudit struct{ log *sqlitelog.Log }

var _ httpapi.AuditLog = embeddedAudit{}

// Events reads the log through its filtered read.
func (a embeddedAudit) Events(ctx context.Context, q httpapi.EventQuery) ([]event.Envelope, error) {
	return a.log.ReadFiltered(ctx, q.After, q.Limit, sqlitelog.Filter{Subject: q.Subject, Types: q.Types, Actor: q.Actor, From: q.From, To: q.To})
}

// Verify recomputes the log's hash chain.
func (a embeddedAudit) Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	return a.log.Verify(ctx, sqlitelog.VerifyOptions{Checkpoints: checkpoints, Progress: progress})
}
