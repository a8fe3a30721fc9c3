package sqlitekit

import (
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

// The defaults of Options.
const (
	DefaultCacheKiB  = 32768
	DefaultReadConns = 4
	// DefaultReadCacheKiB is each reader's page cache. It is small on purpose:
	// in WAL mode a connection drops its whole page cache when it begins a read
	// after another connection committed, so while the writer folds the log a
	// reader's cache never outlives one query and a larger one only holds
	// memory. Readers are served from the operating system's page cache.
	// Half a MiB holds the interior pages one query walks; backlot dev opens
	// about twenty readers.
	DefaultReadCacheKiB = 512
)

// Options configures Open.
type Options struct {
	// CacheKiB is the writer's page cache in KiB, DefaultCacheKiB when zero or
	// less. The writer keeps its cache across its own transactions, so it
	// holds the upper levels of the indexes a fold inserts into.
	CacheKiB int
	// ReadCacheKiB is each reader's page cache in KiB, DefaultReadCacheKiB
	// when zero or less.
	ReadCacheKiB int
	// ReadConns is the size of the read pool, DefaultReadConns when zero or less.
	ReadConns int
	// Pragmas are added to both the writer's and the readers' connection
	// string, each as "&_pragma=" followed by the pragma, e.g.
	// "foreign_keys(OFF)".
	Pragmas []string
	// ReadPragmas are added to the readers' connection string only, after
	// query_only(ON).
	ReadPragmas []string
	// Migrations holds the migrations; the files matching MigrationGlob are
	// applied in name order.
	Migrations    fs.FS
	MigrationGlob string
	// VersionPrefix goes before a migration's file name to make the version
	// schema_migrations records.
	VersionPrefix string
}

func (o *Options) setDefaults() {
	if o.CacheKiB <= 0 {
		o.CacheKiB = DefaultCacheKiB
	}
	if o.ReadConns <= 0 {
		o.ReadConns = DefaultReadConns
	}
	if o.ReadCacheKiB <= 0 {
		o.ReadCacheKiB = DefaultReadCacheKiB
	}
}

// Open opens or creates the SQLite file at path and applies the migrations
// that schema_migrations does not list yet, each in its own transaction, on
// the writer. It returns the writer, limited to one connection, and the read
// pool; on error it closes what it opened.
func Open(path string, opts Options) (write, read *sql.DB, err error) {
	opts.setDefaults()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	base := append([]string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"}, opts.Pragmas...)
	w, err := sql.Open("sqlite", DSN(abs, append(base, fmt.Sprintf("cache_size(-%d)", opts.CacheKiB))...))
	if err != nil {
		return nil, nil, err
	}
	w.SetMaxOpenConns(1)
	if err := migrate(w, opts.Migrations, opts.MigrationGlob, opts.VersionPrefix); err != nil {
		w.Close()
		return nil, nil, err
	}
	r, err := OpenReader(abs, opts, opts.ReadConns)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, r, nil
}

// OpenReader opens a pool of at most conns read-only connections to the
// SQLite file at path, with the readers' pragmas of opts, as Open opens its
// read pool. A store opens a second, small pool with it for reads that must
// not queue behind its queries: a write's decision reads (a refresh looks up
// every entity it reads) would otherwise wait for a connection behind every
// request of a busy API.
func OpenReader(path string, opts Options, conns int) (*sql.DB, error) {
	opts.setDefaults()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// Readers share the OS page cache; each keeps a small cache of its own
	// (DefaultReadCacheKiB says why).
	pragmas := append([]string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"}, opts.Pragmas...)
	pragmas = append(append(pragmas, fmt.Sprintf("cache_size(-%d)", opts.ReadCacheKiB), "query_only(ON)"), opts.ReadPragmas...)
	r, err := sql.Open("sqlite", DSN(abs, pragmas...))
	if err != nil {
		return nil, err
	}
	conns = max(conns, 1)
	r.SetMaxOpenConns(conns)
	r.SetMaxIdleConns(conns)
	return r, nil
}

// DSN returns the modernc.org/sqlite data source name of the file at the
// absolute path with the given pragmas (e.g. "busy_timeout(10000)") run on
// every new connection. The path is a percent-escaped file: URI, so names
// holding ? # or % open the right file. Every SQLite store of Backlot opens its
// file by such a name.
func DSN(path string, pragmas ...string) string {
	q := make([]string, len(pragmas))
	for i, p := range pragmas {
		q[i] = "_pragma=" + url.QueryEscape(p)
	}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:///C:/dir/events.db
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + strings.Join(q, "&")
}

// migrate applies the migrations of fsys matching glob that schema_migrations
// does not list under prefix + file name.
func migrate(db *sql.DB, fsys fs.FS, glob, prefix string) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		version := prefix + n
		var done int
		if err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return err
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		for _, stmt := range statements(string(b)) {
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

// statements splits a migration at its semicolons. Comment lines go first, so
// a ';' inside one does not split a statement.
func statements(text string) []string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";") {
		if strings.TrimSpace(stmt) != "" {
			out = append(out, stmt)
		}
	}
	return out
}
