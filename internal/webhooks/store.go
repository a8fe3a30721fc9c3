package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go

	"backlot.dev/backlot/domain/fault"
)

// ErrNotFound is returned for a subscription or dead letter that does not exist.
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
// dead letters. SQLiteStore serves backlot dev, PGStore backlot serve.
type Store interface {
	// Create stores a new subscription.
	Create(ctx context.Context, sub Subscription) error
	// List returns every subscription.
	List(ctx context.Context) ([]Subscription, error)
	// Get returns one subscription, or ErrNotFound.
	Get(ctx context.Context, id string) (Subscription, error)
	// Delete forgets a subscription and its dead letters, or returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// AddDeadLetter records an event the subscription gave up delivering.
	AddDeadLetter(ctx context.Context, sub string, d DeadLetter) error
	// DeadLetters lists a subscription's dead letters, oldest first.
	DeadLetters(ctx context.Context, sub string) ([]DeadLetter, error)
	// DeleteDeadLetter forgets one dead letter.
	DeleteDeadLetter(ctx context.Context, sub, eventID string) error
	// Load and Save keep a subscription's cursor on the embedded log, under
	// the consumer name ConsumerPrefix + id (a messaging.CursorStore).
	Load(ctx context.Context, consumer string) (int64, error)
	Save(ctx context.Context, consumer string, pos int64) error
	// Close releases the store.
	Close() error
}

// SQLiteStore is the Store of backlot dev.
type SQLiteStore struct {
	db *sql.DB
}

var _ Store = (*SQLiteStore)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, filter TEXT NOT NULL, secret TEXT NOT NULL,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS dead_letters (
    subscription TEXT NOT NULL, event_id TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, event BLOB NOT NULL,
    PRIMARY KEY (subscription, event_id));`

// OpenStore opens (or creates) the store at path.
func OpenStore(path string) (*SQLiteStore, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range strings.Split(schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("webhooks store %s: %w", path, err)
		}
	}
	return &SQLiteStore{db: db}, nil
}

// Close closes the store.
func (s *SQLiteStore) Close() error { return s.db.Close() }

// Create stores a new subscription.
func (s *SQLiteStore) Create(ctx context.Context, sub Subscription) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions(id, url, filter, secret, created_at, created_by, cursor) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sub.ID, sub.URL, sub.Filter, sub.Secret, sub.CreatedAt.UnixNano(), sub.CreatedBy, sub.Cursor)
	return err
}

func scanSub(sc interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var at int64
	err := sc.Scan(&sub.ID, &sub.URL, &sub.Filter, &sub.Secret, &at, &sub.CreatedBy, &sub.Cursor)
	sub.CreatedAt = time.Unix(0, at).UTC()
	return sub, err
}

const subColumns = `id, url, filter, secret, created_at, created_by, cursor`

// List returns every subscription.
func (s *SQLiteStore) List(ctx context.Context) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Get returns one subscription.
func (s *SQLiteStore) Get(ctx context.Context, id string) (Subscription, error) {
	sub, err := scanSub(s.db.QueryRowContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	return sub, err
}

// Delete forgets a subscription and its dead letters.
func (s *SQLiteStore) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE subscription = ?`, id)
	return err
}

// Load returns a subscription's cursor; it makes Store a messaging.CursorStore
// whose consumers are named ConsumerPrefix + subscription id.
func (s *SQLiteStore) Load(ctx context.Context, consumer string) (int64, error) {
	sub, err := s.Get(ctx, strings.TrimPrefix(consumer, ConsumerPrefix))
	return sub.Cursor, err
}

// Save records a subscription's cursor.
func (s *SQLiteStore) Save(ctx context.Context, consumer string, pos int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET cursor = ? WHERE id = ?`, pos, strings.TrimPrefix(consumer, ConsumerPrefix))
	return err
}

// AddDeadLetter records a dead letter.
func (s *SQLiteStore) AddDeadLetter(ctx context.Context, sub string, d DeadLetter) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO dead_letters(subscription, event_id, reason, at, event) VALUES (?, ?, ?, ?, ?)`,
		sub, d.EventID, d.Reason, d.At.UnixNano(), []byte(d.Event))
	return err
}

// DeadLetters lists a subscription's dead letters, oldest first.
func (s *SQLiteStore) DeadLetters(ctx context.Context, sub string) ([]DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, reason, at, event FROM dead_letters WHERE subscription = ? ORDER BY at`, sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var d DeadLetter
		var at int64
		var ev []byte
		if err := rows.Scan(&d.EventID, &d.Reason, &at, &ev); err != nil {
			return nil, err
		}
		d.At, d.Event = time.Unix(0, at).UTC(), ev
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDeadLetter forgets one dead letter.
func (s *SQLiteStore) DeleteDeadLetter(ctx context.Context, sub, eventID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE subscription = ? AND event_id = ?`, sub, eventID)
	return err
}
