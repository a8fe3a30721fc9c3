package sqlitehist

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
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

func (o *Options) setDefaults() {
	if o.CacheKiB <= 0 {
		o.CacheKiB = 32768
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
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
	opts.setDefaults()
	base := fmt.Sprintf("file:%s?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)", path)
	w, err := sql.Open("sqlite", fmt.Sprintf("%s&_pragma=cache_size(-%d)", base, opts.CacheKiB))
	if err != nil {
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", fmt.Sprintf("%s&_pragma=cache_size(-%d)&_pragma=query_only(ON)", base, max(opts.CacheKiB/8, 2048)))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	return &Store{write: w, read: r}, nil
}

// migrate applies the embedded migrations that schema_migrations does not list.
func migrate(db *sql.DB) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		version := "history/" + n
		var done int
		if err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			continue
		}
		b, err := migrations.ReadFile(n)
		if err != nil {
			return err
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		var text strings.Builder
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				text.WriteString(line + "\n")
			}
		}
		for _, stmt := range strings.Split(text.String(), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.Exec(stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", version, err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations(version) VALUES (?)`, version); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
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
