package sqlitecatalog

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
	"backlot.dev/backlot/projections/storekit/sqlitewal"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open.
type Options struct {
	// CacheKiB is SQLite's page cache per connection in KiB; default 32768.
	CacheKiB int
	// ReadConns is the size of the read pool; default 4.
	ReadConns int
	// Lag bounds the cost of counts and facet answers after a write
	// (catalogstore.LagCache); zero fields take its defaults.
	Lag catalogstore.LagOptions
}

// Store is the catalog read model (catalogstore.Store) on a SQLite file. Apply
// runs on one writer connection; queries use a pool of readers and see the
// last committed batch (WAL mode).
type Store struct {
	write *sql.DB
	read  *sql.DB
	// decide is a small read pool for the reads of writes: refresh decisions
	// (Snapshot) and location lookups. A write holds the catalog service's
	// lock while it looks up each entity it read, so those reads must not
	// queue for a connection behind the API's queries, which under load hold
	// every connection of read.
	decide   *sql.DB
	mu       sync.Mutex // serialises Apply
	cache    resultCache
	cacheKiB int
	bulkMode int // guarded by mu
	// targetBuckets says relations_target is dropped for a live bulk load,
	// which keeps relations_target_bulk instead (byTarget); read by readers.
	targetBuckets atomic.Bool
	// wal starts the write-ahead log over once a bulk load ends, and after
	// each later Apply while readers kept it from doing so (sqlitewal).
	// Guarded by mu.
	wal sqlitewal.Restarter
	// keys maps each search key, by its hash (keyHash), to its id in
	// search_keys, as committed; nil until loaded. Guarded by mu.
	keys map[keyHash]int64
	// hash hashes search keys for keys.
	hash keyHasher
	// lastKey is the largest id of keys. Guarded by mu.
	lastKey int64
	// prepared are the writer's full multi-row inserts, by their SQL
	// (prepareInserts), closed by Close.
	prepared map[string]*sql.Stmt
	// readStmts are the read pool's statements of a fixed text, by their
	// SQL (readStmt), closed by Close. Guarded by readStmtsMu.
	readStmts   map[string]*sql.Stmt
	readStmtsMu sync.Mutex
	// ahead are the batches Prepare decoded last, for the Apply of the
	// same events; aheadUsed counts the Applies that found theirs. Guarded
	// by aheadMu.
	ahead     []*catalogstore.Decoded
	aheadUsed int
	aheadMu   sync.Mutex
}

var _ catalogstore.Store = (*Store)(nil)

// decideConns is the size of the decision pool (Store.decide).
const decideConns = 2

// Open opens or creates the read model at path and applies its migrations.
func Open(path string, opts Options) (*Store, error) {
	// The writer sorts on disk (temp_store FILE, the default), so rebuilding an
	// index over millions of rows does not hold them all in memory.
	kit := sqlitekit.Options{
		CacheKiB:      opts.CacheKiB,
		ReadConns:     opts.ReadConns,
		Pragmas:       []string{"foreign_keys(OFF)", "wal_autocheckpoint(20000)"},
		ReadPragmas:   []string{"temp_store(MEMORY)"},
		Migrations:    migrations,
		MigrationGlob: "migrations/*.sql",
	}
	w, r, err := sqlitekit.Open(path, kit)
	if err != nil {
		return nil, fmt.Errorf("catalog store %s: %w", path, err)
	}
	// Writes read on connections of their own (see Store.decide).
	d, err := sqlitekit.OpenReader(path, kit, decideConns)
	if err != nil {
		return nil, fmt.Errorf("catalog store %s: %w", path, errors.Join(err, r.Close(), w.Close()))
	}
	st := &Store{write: w, read: r, decide: d, cacheKiB: opts.CacheKiB, hash: newKeyHasher(), wal: sqlitewal.Restarter{DB: w}}
	st.cache.lag = catalogstore.NewLagCache(opts.Lag)
	if st.cacheKiB <= 0 {
		st.cacheKiB = sqlitekit.DefaultCacheKiB
	}
	if err := ensureNameTriggers(context.Background(), st); err != nil {
		st.Close()
		return nil, err
	}
	if err := ensureIndexes(context.Background(), st); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.prepareInserts(context.Background()); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Close closes the writer's prepared statements and the connection pools.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.prepared {
		errs = append(errs, st.Close())
	}
	s.readStmtsMu.Lock()
	for _, st := range s.readStmts {
		errs = append(errs, st.Close())
	}
	s.readStmts = nil
	s.readStmtsMu.Unlock()
	return errors.Join(append(errs, s.decide.Close(), s.read.Close(), s.write.Close())...)
}

// Positions returns the last applied log position. The SQLite read model folds
// the embedded log, which has one partition, 0.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	var p int64
	err := s.read.QueryRowContext(ctx, `SELECT position FROM positions WHERE name = ?`, catalogstore.ProjectionName).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return event.Positions{0: 0}, nil
	}
	if err != nil {
		return nil, err
	}
	return event.Positions{0: p}, nil
}
