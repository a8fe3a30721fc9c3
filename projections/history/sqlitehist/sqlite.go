package sqlitehist

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
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
}

// Store is the history read model on a SQLite file. It is safe for concurrent
// use: Applies take turns on the writer, queries run on the read pool.
type Store struct {
	write *sql.DB
	read  *sql.DB
	mu    sync.Mutex // serialises Apply
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
	return &Store{write: w, read: r}, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
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
