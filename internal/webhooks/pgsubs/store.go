package pgsubs

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

// migrations are recorded in schema_migrations as webhooks/migrations/NAME.
// (Until the store moved here they were recorded as webhooks/pgmigrations/NAME;
// 0001 creates its tables only if they do not exist, so a database migrated
// then runs it again without change.)
//
//go:embed migrations/*.sql
var migrations embed.FS

// Store is the webhooks.Store of backlot serve, in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ webhooks.Store = (*Store)(nil)

// New applies the store's migrations and returns the store on pool, which
// the caller owns.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if err := pgkit.Migrate(ctx, pool, "webhooks", migrations, "migrations/*.sql"); err != nil {
		return nil, fmt.Errorf("webhooks store: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close leaves the shared pool open.
func (s *Store) Close() error { return nil }

// Create stores a new subscription; its Cursor is not kept.
func (s *Store) Create(ctx context.Context, sub webhooks.Subscription) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO webhook_subscriptions(id, url, filter, secret, created_at, created_by, start_positions) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sub.ID, sub.URL, sub.Filter, sub.Secret, sub.CreatedAt, sub.CreatedBy, sub.Start)
	if err != nil {
		return fmt.Errorf("webhooks store: create subscription %s: %w", sub.ID, err)
	}
	return nil
}

const subColumns = `id, url, filter, secret, created_at, created_by, start_positions`

func scanSub(row pgx.Row) (webhooks.Subscription, error) {
	var sub webhooks.Subscription
	err := row.Scan(&sub.ID, &sub.URL, &sub.Filter, &sub.Secret, &sub.CreatedAt, &sub.CreatedBy, &sub.Start)
	sub.CreatedAt = sub.CreatedAt.UTC()
	return sub, err
}

// List returns every subscription, oldest first.
func (s *Store) List(ctx context.Context) ([]webhooks.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks store: list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []webhooks.Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("webhooks store: list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks store: list subscriptions: %w", err)
	}
	return out, nil
}

// Get returns one subscription, or webhooks.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (webhooks.Subscription, error) {
	sub, err := scanSub(s.pool.QueryRow(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return sub, fmt.Errorf("subscription %s: %w", id, webhooks.ErrNotFound)
	case err != nil:
		return sub, fmt.Errorf("webhooks store: subscription %s: %w", id, err)
	}
	return sub, nil
}

// Delete forgets a subscription and its dead letters, in one transaction.
func (s *Store) Delete(ctx context.Context, id string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("webhooks store: delete subscription %s: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("webhooks store: delete subscription %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("subscription %s: %w", id, webhooks.ErrNotFound)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM webhook_dead_letters WHERE subscription = $1`, id); err != nil {
		return fmt.Errorf("webhooks store: delete the dead letters of subscription %s: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("webhooks store: delete subscription %s: %w", id, err)
	}
	return nil
}

// AddDeadLetter records a dead letter, replacing the subscription's letter
// for the same event.
func (s *Store) AddDeadLetter(ctx context.Context, sub string, d webhooks.DeadLetter) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO webhook_dead_letters(subscription, event_id, reason, at, event) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (subscription, event_id) DO UPDATE SET reason = excluded.reason, at = excluded.at, event = excluded.event`,
		sub, d.EventID, d.Reason, d.At, string(d.Event))
	if err != nil {
		return fmt.Errorf("webhooks store: dead letter %s of subscription %s: %w", d.EventID, sub, err)
	}
	return nil
}

// DeadLetters lists a subscription's dead letters, oldest first. Each Event
// is the JSON that was stored, as PostgreSQL's jsonb renders it.
func (s *Store) DeadLetters(ctx context.Context, sub string) ([]webhooks.DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT event_id, reason, at, event::text FROM webhook_dead_letters WHERE subscription = $1 ORDER BY at, event_id`, sub)
	if err != nil {
		return nil, fmt.Errorf("webhooks store: dead letters of subscription %s: %w", sub, err)
	}
	defer rows.Close()
	out := []webhooks.DeadLetter{}
	for rows.Next() {
		var d webhooks.DeadLetter
		var ev string
		if err := rows.Scan(&d.EventID, &d.Reason, &d.At, &ev); err != nil {
			return nil, fmt.Errorf("webhooks store: dead letters of subscription %s: %w", sub, err)
		}
		d.At, d.Event = d.At.UTC(), []byte(ev)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks store: dead letters of subscription %s: %w", sub, err)
	}
	return out, nil
}

// DeleteDeadLetter forgets one dead letter.
func (s *Store) DeleteDeadLetter(ctx context.Context, sub, eventID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM webhook_dead_letters WHERE subscription = $1 AND event_id = $2`, sub, eventID); err != nil {
		return fmt.Errorf("webhooks store: delete dead letter %s of subscription %s: %w", eventID, sub, err)
	}
	return nil
}

// Load answers zero: on Kafka a subscription's place is its consumer group's
// committed offsets.
func (s *Store) Load(context.Context, string) (int64, error) { return 0, nil }

// Save does nothing, for the same reason.
func (s *Store) Save(context.Context, string, int64) error { return nil }
