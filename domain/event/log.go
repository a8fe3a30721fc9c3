package event

import (
	"context"
	"errors"
)

// ErrClosed is returned by a Log used after Close.
var ErrClosed = errors.New("event log: closed")

// ErrDuplicateID is wrapped by the error of an Append refused because of an
// event's ID; such an append writes nothing. Every adapter refuses a batch that
// holds one ID twice. An event whose ID is already in the log is refused only by
// an adapter that keeps an index of IDs (the embedded SQLite log); a log without
// one (Kafka) stores it again, and readers ignore the repeat (folds skip a body
// hash they already applied). A writer that retries an append with the same IDs
// (a Temporal activity after a lost answer) may therefore take ErrDuplicateID as
// "written already" on every adapter.
var ErrDuplicateID = errors.New("event log: duplicate event id")

// Log is the port every event-log adapter implements: an append-only, totally
// ordered sequence of envelopes, each with a position greater than the one before.
type Log interface {
	// Append writes the events atomically, in order, assigns their positions (set on
	// the given envelopes) and returns the last position. Either all are written or none.
	// A batch holding one ID twice is refused with ErrDuplicateID; see ErrDuplicateID
	// for an ID already in the log.
	Append(ctx context.Context, events []Envelope) (int64, error)
	// Read returns up to limit events with positions greater than after, in order.
	Read(ctx context.Context, after int64, limit int) ([]Envelope, error)
	// Head returns the position of the last event, or zero for an empty log.
	Head(ctx context.Context) (int64, error)
	// Wait blocks until the log's head is greater than after or ctx ends, and
	// returns the head. It lets tailing readers sleep instead of polling.
	Wait(ctx context.Context, after int64) (int64, error)
	// Close releases the log's resources.
	Close() error
}
