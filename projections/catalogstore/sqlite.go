package catalogstore

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
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLiteOptions configures OpenSQLite.
type SQLiteOptions struct {
	// CacheKiB is SQLite's page cache per connection in KiB; default 32768.
	CacheKiB int
	// ReadConns is the size of the read pool; default 4.
	ReadConns int
}

func (o *SQLiteOptions) setDefaults() {
	if o.CacheKiB <= 0 {
		o.CacheKiB = 32768
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
}

// SQLite is the Store on a SQLite file. Apply runs on one writer connection;
// queries use a pool of readers and see the last committed batch (WAL mode).
type SQLite struct {
	write    *sql.DB
	read     *sql.DB
	mu       sync.Mutex // serialises Apply
	cache    resultCache
	cacheKiB int
	bulkMode int // guarded by mu
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens or creates the read model at path and applies its migrations.
func OpenSQLite(path string, opts SQLiteOptions) (*SQLite, error) {
	opts.setDefaults()
	dsn := fmt.Sprintf("file:%s?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(OFF)&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(20000)", path, opts.CacheKiB)
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog store %s: %w", path, err)
	}
	// The writer sorts on disk (temp_store FILE, the default), so rebuilding an
	// index over millions of rows does not hold them all in memory.
	w.SetMaxOpenConns(1)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("catalog store %s: %w", path, err)
	}
	// Readers share the OS page cache; each keeps a smaller cache of its own.
	readDSN := strings.Replace(dsn, fmt.Sprintf("cache_size(-%d)", opts.CacheKiB), fmt.Sprintf("cache_size(-%d)", max(opts.CacheKiB/8, 2048)), 1)
	r, err := sql.Open("sqlite", readDSN+"&_pragma=query_only(ON)&_pragma=temp_store(MEMORY)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	st := &SQLite{write: w, read: r, cacheKiB: opts.CacheKiB}
	if err := ensureIndexes(context.Background(), st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

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
		var done int
		if err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = ?`, n).Scan(&done); err != nil {
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
		// Comment lines go first, so a ';' inside one does not split a statement.
		var sqlText strings.Builder
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				sqlText.WriteString(line)
				sqlText.WriteByte('\n')
			}
		}
		for _, stmt := range strings.Split(sqlText.String(), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.Exec(stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", n, err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations(version) VALUES (?)`, n); err != nil {
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
func (s *SQLite) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// Positions returns the last applied log position. The SQLite read model folds
// the embedded log, which has one partition, 0.
func (s *SQLite) Positions(ctx context.Context) (event.Positions, error) {
	var p int64
	err := s.read.QueryRowContext(ctx, `SELECT position FROM positions WHERE name = ?`, ProjectionName).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return event.Positions{0: 0}, nil
	}
	if err != nil {
		return nil, err
	}
	return event.Positions{0: p}, nil
}
