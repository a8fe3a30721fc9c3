package pghist

import (
	"context"
	"embed"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open and New.
type Options struct {
	// MaxConns is the size of the pool Open makes; default pgkit.DefaultMaxConns.
	MaxConns int
	// ApplyAttempts is how often Apply runs a transaction that failed on a
	// serialization failure, a deadlock or a unique key taken by a concurrent
	// transaction before it returns the error; default 5.
	ApplyAttempts int
}

func (o *Options) setDefaults() {
	if o.ApplyAttempts <= 0 {
		o.ApplyAttempts = 5
	}
}

// Store is the history read model in a PostgreSQL database. It is safe for
// concurrent use, and several Stores in several processes may share one database.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	opts    Options
	// kept is set once this Store has seen the catalog rows kept (the flag
	// never goes back); Apply reads the flag in its transaction until then.
	kept atomic.Bool
	// building is set while the catalog rows are built in the background
	// (bg), under bgCtx, which Close cancels.
	building atomic.Bool
	bg       sync.WaitGroup
	bgCtx    context.Context
	stop     context.CancelFunc
}

var _ history.Store = (*Store)(nil)

// Open connects to the database at url, applies the history's migrations and
// returns the store, which closes its pool on Close.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	pool, err := pgkit.NewPool(url, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New returns a store on a pool the caller owns (the catalog read model's, for
// one), after applying the history's migrations. Close leaves the pool open.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := pgkit.Migrate(ctx, pool, "history", migrations, "migrations/*.sql"); err != nil {
		return nil, fmt.Errorf("history store (postgres): %w", err)
	}
	s := &Store{pool: pool, opts: opts}
	s.bgCtx, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Close stops a background build of the catalog rows, waits for it, and
// closes the pool if Open made it.
func (s *Store) Close() error {
	s.stop()
	s.bg.Wait()
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// Positions returns the last position applied in each partition; partitions
// that never had an event applied are absent.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	pos, err := pgkit.ReadPositions(ctx, s.pool, "history_positions", history.ProjectionName)
	if err != nil {
		return nil, fmt.Errorf("history store (postgres): %w", err)
	}
	return pos, nil
}
