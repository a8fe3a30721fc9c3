package audit

import (
	"context"
	"time"

	"backlot.dev/backlot/domain/event"
)

// EventQuery selects events of the raw log.
type EventQuery struct {
	// Subject, Actor, Correlation: exact matches when set.
	Subject, Actor, Correlation string
	// Types matches any of these types when not empty.
	Types []string
	// From and To bound the event time: at or after From, before To.
	From, To time.Time
	// After is where to continue (the previous page's cursor): the last
	// position read in each partition.
	After event.Positions
	// Limit caps the page.
	Limit int
}

// Log is the event log the audit questions are asked of. Embedded and Kafka
// are its two adapters.
type Log interface {
	// Events returns up to q.Limit events matching q after q.After: in log
	// order on a single-partition log, by time across partitions.
	Events(ctx context.Context, q EventQuery) ([]event.Envelope, error)
	// Verify recomputes the log's hash chain, calling progress as it goes.
	Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error)
}

var (
	_ Log = Embedded{}
	_ Log = Kafka{}
)

// EventItem is one event of an EventPage: the CloudEvent and where the log
// holds it.
type EventItem struct {
	Position  int64          `json:"position"`
	Partition int32          `json:"partition"`
	Event     event.Envelope `json:"event"`
}

// EventPage is a page of the raw log: the events and, when the page is full,
// the cursor the next page continues after.
type EventPage struct {
	Items      []EventItem `json:"items"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// Events reads one page of the events the log answers for q. A full page (q.Limit
// events) carries NextCursor: q.After advanced past every event of the page,
// in each partition; a shorter page is the last and carries none. Items is
// never nil.
func (s Service) Events(ctx context.Context, q EventQuery) (EventPage, error) {
	evs, err := s.Log.Events(ctx, q)
	if err != nil {
		return EventPage{}, err
	}
	out := EventPage{Items: make([]EventItem, 0, len(evs))}
	for _, ev := range evs {
		out.Items = append(out.Items, EventItem{Position: ev.Position, Partition: ev.Partition, Event: ev})
	}
	if len(evs) == q.Limit {
		next := q.After.Clone()
		if next == nil {
			next = event.Positions{}
		}
		next.Merge(event.PositionsOf(evs))
		out.NextCursor = next.String()
	}
	return out, nil
}

// Verify recomputes the log's hash chain (and whatever else the log's
// adapter checks), calling progress as it goes; see Embedded.Verify and
// Kafka.Verify. Problems are in the report; an error means the check could
// not run.
func (s Service) Verify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	return s.Log.Verify(ctx, checkpoints, progress)
}
