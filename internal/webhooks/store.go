package webhooks

import (
	"context"
	"encoding/json"
	"time"

	"backlot.dev/backlot/domain/fault"
)

// ErrNotFound is returned for a subscription or dead letter that does not
// exist; the error that wraps it names the subscription (and event).
var ErrNotFound = fault.Sentinel(fault.NotFound, "not found")

// Subscription is a webhook subscription. Its secret is never rendered.
type Subscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Filter    string    `json:"filter,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
	// Cursor is the position of the last event handled (on the embedded log).
	Cursor int64 `json:"cursor"`
	// Start is where the subscription began on a partitioned log: the log's
	// heads when it was created (event.Positions' form); earlier events are
	// not delivered.
	Start  string `json:"start,omitempty"`
	Secret string `json:"-"`
}

// DeadLetter is an event a subscription gave up delivering.
type DeadLetter struct {
	EventID string          `json:"eventId"`
	Reason  string          `json:"reason"`
	At      time.Time       `json:"at"`
	Event   json.RawMessage `json:"event"`
}

// Store keeps subscriptions, their cursors (on the embedded log) and their
// dead letters. Its adapters are packages sqlitesubs (backlot dev) and pgsubs
// (backlot serve); package substest is the contract suite both pass. Every
// method is safe for concurrent use, also by several processes on one
// database.
type Store interface {
	// Create stores a new subscription; it fails, and stores nothing, when a
	// subscription has the same id.
	Create(ctx context.Context, sub Subscription) error
	// List returns every subscription, oldest first; an empty slice, not nil,
	// when there is none.
	List(ctx context.Context) ([]Subscription, error)
	// Get returns one subscription, or ErrNotFound.
	Get(ctx context.Context, id string) (Subscription, error)
	// Delete forgets a subscription and its dead letters, or returns
	// ErrNotFound; of concurrent deletes of one subscription, one succeeds.
	Delete(ctx context.Context, id string) error
	// AddDeadLetter records an event the subscription gave up delivering. A
	// second letter for the same event replaces the first (its reason, time
	// and event), so a subscription holds one letter per event.
	AddDeadLetter(ctx context.Context, sub string, d DeadLetter) error
	// DeadLetters lists a subscription's dead letters, oldest first; an empty
	// slice when there is none, also for an unknown subscription.
	DeadLetters(ctx context.Context, sub string) ([]DeadLetter, error)
	// DeleteDeadLetter forgets one dead letter; forgetting one that is not
	// there is no error.
	DeleteDeadLetter(ctx context.Context, sub, eventID string) error
	// Load and Save keep a subscription's cursor on the embedded log, under
	// the consumer name ConsumerPrefix + id (a messaging.CursorStore). Load
	// returns ErrNotFound for an unknown subscription on a store that keeps
	// cursors; a store for Kafka, where a subscription's place is its consumer
	// group's committed offsets, keeps none: Load answers zero, Save does
	// nothing.
	Load(ctx context.Context, consumer string) (int64, error)
	Save(ctx context.Context, consumer string, pos int64) error
	// Close releases the store.
	Close() error
}
