package webhooks

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/projections/storekit/pgkit"
)

//go:embed pgmigrations/*.sql
var pgMigrations embed.FS

// PGStore is the Store of backlot serve, in PostgreSQL.
type PGStore struct {
	pool *pgxpool.Pool
}

var _ Store = (*PGStore)(nil)

// NewPGStore applies its migrations and returns the store on pool.
func NewPGStore(ctx context.Context, pool *pgxpool.Pool) (*PGStore, error) {
	if err := pgkit.Migrate(ctx, pool, "webhooks", pgMigrations, "pgmigrations/*.sql"); err != nil {
		return nil, fmt.Errorf("webhooks store: %w", err)
	}
	return &PGStore{pool: pool}, nil
}

// Close leaves the shared pool open.
func (s *PGStore) Close() error { return nil }

// Create stores a new subscription.
func (s *PGStore) Create(ctx context.Context, sub Subscription) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO webhook_subscriptions(id, url, filter, secret, created_at, created_by, start_positions) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sub.ID, sub.URL, sub.Filter, sub.Secret, sub.CreatedAt, sub.CreatedBy, sub.Start)
	return err
}

const pgSubColumns = `id, url, filter, secret, created_at, created_by, start_positions`

func scanPGSub(row pgx.Row) (Subscription, error) {
	var sub Subscription
	err := row.Scan(&sub.ID, &sub.URL, &sub.Filter, &sub.Secret, &sub.CreatedAt, &sub.CreatedBy, &sub.Start)
	sub.CreatedAt = sub.CreatedAt.UTC()
	return sub, err
}

// List returns every subscription.
func (s *PGStore) List(ctx context.Context) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgSubColumns+` FROM webhook_subscriptions ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanPGSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Get returns one subscription.
func (s *PGStore) Get(ctx context.Context, id string) (Subscription, error) {
	sub, err := scanPGSub(s.pool.QueryRow(ctx, `SELECT `+pgSubColumns+` FROM webhook_subscriptions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	return sub, err
}

// Delete forgets a subscription and its dead letters.
func (s *PGStore) Delete(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM webhook_dead_letters WHERE subscription = $1`, id)
	return err
}

// AddDeadLetter records a dead letter.
func (s *PGStore) AddDeadLetter(ctx context.Context, sub string, d DeadLetter) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO webhook_dead_letters(subscription, event_id, reason, at, event) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (subscription, event_id) DO UPDATE SET reason = excluded.reason, at = excluded.at, event = excluded.event`,
		sub, d.EventID, d.Reason, d.At, string(d.Event))
	return err
}

// DeadLetters lists a subscription's dead letters, oldest first.
func (s *PGStore) DeadLetters(ctx context.Context, sub string) ([]DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT event_id, reason, at, event::text FROM webhook_dead_letters WHERE subscription = $1 ORDER BY at`, sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var d DeadLetter
		var ev string
		if err := rows.Scan(&d.EventID, &d.Reason, &d.At, &ev); err != nil {
			return nil, err
		}
		d.At, d.Event = d.At.UTC(), []byte(ev)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDeadLetter forgets one dead letter.
func (s *PGStore) DeleteDeadLetter(ctx context.Context, sub, eventID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM webhook_dead_letters WHERE subscription = $1 AND event_id = $2`, sub, eventID)
	return err
}

// Load answers zero: on Kafka a subscription's place is its consumer group's
// committed offsets.
func (s *PGStore) Load(context.Context, string) (int64, error) { return 0, nil }

// Save does nothing, for the same reason.
func (s *PGStore) Save(context.Context, string, int64) error { return nil }
