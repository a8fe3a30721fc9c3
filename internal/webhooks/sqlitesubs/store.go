package sqlitesubs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go

	"backlot.dev/backlot/internal/webhooks"
)

// Store is the webhooks.Store of backlot dev, on one SQLite file. It keeps
// cursors (Load, Save) but not Subscription.Start, which only a partitioned
// log needs.
type Store struct {
	db   *sql.DB
	path string
}

var _ webhooks.Store = (*Store)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, filter TEXT NOT NULL, secret TEXT NOT NULL,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS dead_letters (
    subscription TEXT NOT NULL, event_id TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, event BLOB NOT NULL,
    PRIMARY KEY (subscription, event_id));`

// Open opens (or creates) the store at path. Several processes may open one
// file: writes wait for each other up to ten seconds.
func Open(path string) (*Store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("webhooks store %s: %w", path, err)
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
	return &Store{db: db, path: path}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// errorf names the store's file and what failed.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf("webhooks store %s: "+format, append([]any{s.path}, args...)...)
}

// Create stores a new subscription.
func (s *Store) Create(ctx context.Context, sub webhooks.Subscription) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions(id, url, filter, secret, created_at, created_by, cursor) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sub.ID, sub.URL, sub.Filter, sub.Secret, sub.CreatedAt.UnixNano(), sub.CreatedBy, sub.Cursor)
	if err != nil {
		return s.errorf("create subscription %s: %w", sub.ID, err)
	}
	return nil
}

func scanSub(sc interface{ Scan(...any) error }) (webhooks.Subscription, error) {
	var sub webhooks.Subscription
	var at int64
	err := sc.Scan(&sub.ID, &sub.URL, &sub.Filter, &sub.Secret, &at, &sub.CreatedBy, &sub.Cursor)
	sub.CreatedAt = time.Unix(0, at).UTC()
	return sub, err
}

const subColumns = `id, url, filter, secret, created_at, created_by, cursor`

// List returns every subscription, oldest first.
func (s *Store) List(ctx context.Context) ([]webhooks.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, s.errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []webhooks.Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, s.errorf("list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// Get returns one subscription, or webhooks.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (webhooks.Subscription, error) {
	sub, err := scanSub(s.db.QueryRowContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sub, fmt.Errorf("subscription %s: %w", id, webhooks.ErrNotFound)
	case err != nil:
		return sub, s.errorf("subscription %s: %w", id, err)
	}
	return sub, nil
}

// Delete forgets a subscription and its dead letters, in one transaction.
func (s *Store) Delete(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("delete subscription %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return s.errorf("delete subscription %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("subscription %s: %w", id, webhooks.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE subscription = ?`, id); err != nil {
		return s.errorf("delete the dead letters of subscription %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("delete subscription %s: %w", id, err)
	}
	return nil
}

// Load returns a subscription's cursor; the consumer is named
// webhooks.ConsumerPrefix + subscription id.
func (s *Store) Load(ctx context.Context, consumer string) (int64, error) {
	sub, err := s.Get(ctx, strings.TrimPrefix(consumer, webhooks.ConsumerPrefix))
	return sub.Cursor, err
}

// Save records a subscription's cursor.
func (s *Store) Save(ctx context.Context, consumer string, pos int64) error {
	id := strings.TrimPrefix(consumer, webhooks.ConsumerPrefix)
	if _, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET cursor = ? WHERE id = ?`, pos, id); err != nil {
		return s.errorf("save the cursor of subscription %s: %w", id, err)
	}
	return nil
}

// AddDeadLetter records a dead letter, replacing the subscription's letter
// for the same event.
func (s *Store) AddDeadLetter(ctx context.Context, sub string, d webhooks.DeadLetter) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO dead_letters(subscription, event_id, reason, at, event) VALUES (?, ?, ?, ?, ?)`,
		sub, d.EventID, d.Reason, d.At.UnixNano(), []byte(d.Event))
	if err != nil {
		return s.errorf("dead letter %s of subscription %s: %w", d.EventID, sub, err)
	}
	return nil
}

// DeadLetters lists a subscription's dead letters, oldest first.
func (s *Store) DeadLetters(ctx context.Context, sub string) ([]webhooks.DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, reason, at, event FROM dead_letters WHERE subscription = ? ORDER BY at, event_id`, sub)
	if err != nil {
		return nil, s.errorf("dead letters of subscription %s: %w", sub, err)
	}
	defer rows.Close()
	out := []webhooks.DeadLetter{}
	for rows.Next() {
		var d webhooks.DeadLetter
		var at int64
		var ev []byte
		if err := rows.Scan(&d.EventID, &d.Reason, &at, &ev); err != nil {
			return nil, s.errorf("dead letters of subscription %s: %w", sub, err)
		}
		d.At, d.Event = time.Unix(0, at).UTC(), ev
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("dead letters of subscription %s: %w", sub, err)
	}
	return out, nil
}

// DeleteDeadLetter forgets one dead letter.
func (s *Store) DeleteDeadLetter(ctx context.Context, sub, eventID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE subscription = ? AND event_id = ?`, sub, eventID); err != nil {
		return s.errorf("delete dead letter %s of subscription %s: %w", eventID, sub, err)
	}
	return nil
}
