package sqlitehist

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
	"backlot.dev/backlot/projections/storekit/sqlitewal"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configures Open.
type Options struct {
	// CacheKiB is SQLite's page cache of the writer in KiB; default 32768.
	// Readers keep an eighth of it each.
	CacheKiB int
	// ReadConns is the size of the read pool; default 4.
	ReadConns int
	// KeepCatalogRows makes Open build the catalog rows of every version
	// (KeepCatalogRows) if they are not kept yet, so Apply keeps them from
	// its first batch. By default they are built on the first CatalogAt.
	KeepCatalogRows bool
}

// Store is the history read model on a SQLite file. It is safe for concurrent
// use: Applies take turns on the writer, queries run on the read pool.
type Store struct {
	write *sql.DB
	read  *sql.DB
	mu    sync.Mutex // serialises Apply and the build of the catalog rows
	// wal starts the write-ahead log over after the build of the catalog
	// rows, which writes them all in one transaction, and after each later
	// Apply while readers kept it from doing so. Guarded by mu.
	wal sqlitewal.Restarter
	// kept is set once the catalog rows of every version are kept: Apply
	// then writes those of each batch.
	kept atomic.Bool
	// building is set while the catalog rows are built in the background
	// (bg), under bgCtx, which Close cancels.
	building atomic.Bool
	bg       sync.WaitGroup
	bgCtx    context.Context
	stop     context.CancelFunc
}

var _ history.Store = (*Store)(nil)

// Open opens or creates the history at path and applies its migrations.
func Open(path string, opts Options) (*Store, error) {
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{
		CacheKiB:      opts.CacheKiB,
		ReadConns:     opts.ReadConns,
		Migrations:    migrations,
		MigrationGlob: "migrations/*.sql",
		// Versions carry the prefix history/, as existing files record them.
		VersionPrefix: "history/",
	})
	if err != nil {
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	s := &Store{write: w, read: r, wal: sqlitewal.Restarter{DB: w}}
	s.bgCtx, s.stop = context.WithCancel(context.Background())
	var flag int64
	err = w.QueryRow(`SELECT position FROM history_positions WHERE name = ?`, rowsKept).Scan(&flag)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	s.kept.Store(flag == 1)
	if opts.KeepCatalogRows {
		if err := s.KeepCatalogRows(context.Background()); err != nil {
			s.Close()
			return nil, fmt.Errorf("history store %s: %w", path, err)
		}
	}
	return s, nil
}

// Close stops a background build of the catalog rows, waits for it, and
// closes both connection pools.
func (s *Store) Close() error {
	s.stop()
	s.bg.Wait()
	return errors.Join(s.read.Close(), s.write.Close())
}

// Positions returns the last applied position of partition 0, the only one.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	var p int64
	err := s.read.QueryRowContext(ctx, `SELECT position FROM history_positions WHERE name = ?`, history.ProjectionName).Scan(&p)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("history store: read position: %w", err)
	}
	return event.Positions{0: p}, nil
}
