package pgcatalog

import (
	"context"
	"embed"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MaxPartitions is the most partitions the folded log may have: eids are
// Position*MaxPartitions + Partition.
const MaxPartitions = 1024

// keyPoolConns is the size of the pool that gives new search keys their ids.
const keyPoolConns = 2

// Options configures Open.
type Options struct {
	// MaxConns is the size of the connection pool; default DefaultMaxConns.
	MaxConns int
	// ApplyAttempts is how often Apply runs a transaction that failed on a
	// serialization failure, a deadlock or a unique key taken by a concurrent
	// transaction before it returns the error; default 5.
	ApplyAttempts int
	// Lag bounds the cost of counts and facet answers after a write
	// (catalogstore.LagCache); zero fields take its defaults.
	Lag catalogstore.LagOptions
}

func (o *Options) setDefaults() {
	if o.MaxConns <= 0 {
		o.MaxConns = pgkit.DefaultMaxConns
	}
	if o.ApplyAttempts <= 0 {
		o.ApplyAttempts = 5
	}
}

// Store is the catalog read model in a PostgreSQL database. It is safe for
// concurrent use, and several Stores in several processes may share one
// database.
type Store struct {
	pool *pgxpool.Pool
	// keyPool gives new search keys their ids, in transactions of their own
	// (keyIDs); a pool apart, so a fold that holds a connection of pool
	// never waits for another one of it.
	keyPool *pgxpool.Pool
	opts    Options
	cache   *catalogstore.LagCache
	// bulk is set between BeginBulk and EndBulk: rows then go in unsorted, as
	// no index takes them at random places.
	bulk atomic.Bool
	// replay is set between BeginReplay and EndBulk: the search rows of the
	// entities a batch rewrites are then set aside (replaysearch.go).
	replay atomic.Bool
	// keys holds the ids of search keys of committed transactions, as many
	// as keyCacheSize: the writer fills it (keyIDs), and queries read it and
	// look up the keys they name that it lacks (knownKey).
	keys *keyCache
	// analyze keeps the planner's statistics up with a fast-growing read
	// model (analyze.go).
	analyze analyzer
	// bulkSlots holds a token for each transaction of a bulk fold under
	// way (bulkFolds).
	bulkSlots chan struct{}
}

var _ catalogstore.Store = (*Store)(nil)

// Open connects to the database at url, applies the read model's migrations
// and returns the store. It fails when the server does not answer.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts.setDefaults()
	pool, err := pgkit.NewPool(url, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	if err := pgkit.Migrate(ctx, pool, "catalogstore", migrations, "migrations/*.sql"); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog store (postgres): %w", err)
	}
	// Indexes a bulk load dropped before a crash are built again.
	if err := ensureIndexes(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog store (postgres): build indexes: %w", err)
	}
	keyPool, err := pgkit.NewPool(url, keyPoolConns)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, keyPool: keyPool, opts: opts, cache: catalogstore.NewLagCache(opts.Lag), keys: newKeyCache(keyCacheSize),
		bulkSlots: make(chan struct{}, bulkFolds)}, nil
}

// Pool returns the store's connection pool, for other adapters of the process
// that use the same database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the connection pools.
func (s *Store) Close() error {
	s.pool.Close()
	s.keyPool.Close()
	return nil
}

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	return nil
}

// Positions returns the last position applied in each partition; partitions
// that never had an event applied are absent.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	pos, err := pgkit.ReadPositions(ctx, s.pool, "positions", catalogstore.ProjectionName)
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): %w", err)
	}
	return pos, nil
}

// withConn runs fn on a pooled connection.
func (s *Store) withConn(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return fn(conn.Conn())
}
