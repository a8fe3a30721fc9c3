package audit

import (
	"context"
	"errors"

	"backlot.dev/backlot/domain/event"
)

// Appender is the part of the event log a Denials appends to.
type Appender interface {
	Append(ctx context.Context, events []event.Envelope) (int64, error)
}

// Denials records the permission policy's refusals as
// backlot.permission.denied.v1 events, so the audit API (GET
// /api/audit/events?type=backlot.permission.denied.v1) and the change stream
// show who was refused what. It is safe for concurrent use.
type Denials struct {
	// Log is where the events go.
	Log Appender
}

// Record appends one denial, with the principal as the event's actor and
// correlation as its correlation id. A denial without a permission is an
// error and appends nothing.
func (d Denials) Record(ctx context.Context, denied event.PermissionDenied, correlation string) error {
	if denied.Permission == "" {
		return errors.New("audit: a denial names its permission")
	}
	if denied.Groups == nil {
		denied.Groups = []string{}
	}
	env, err := event.New(event.TypePermissionDenied, event.PrincipalSubject(denied.Principal), denied,
		event.Meta{Actor: denied.Principal, CorrelationID: correlation})
	if err != nil {
		return err
	}
	_, err = d.Log.Append(ctx, []event.Envelope{env})
	return err
}
