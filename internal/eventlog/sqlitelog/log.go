package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// Log is an event.Log stored in one SQLite file.
//
// A Log is safe for concurrent use. Appends through one Log are serialised; reads,
// Head and Wait run in parallel with them and with each other, each seeing a
// consistent snapshot of the log.
type Log struct {
	opts Options

	// wdb has exactly one connection: every write goes through it.
	wdb *sql.DB
	// inserts[k] inserts 1<<k events (insertSQL).
	inserts [insertSizes]*sql.Stmt

	// rdb is the read pool.
	rdb      *sql.DB
	readStmt *sql.Stmt
	headStmt *sql.Stmt

	// writing holds one token while an Append runs; unlike a mutex, waiting for it
	// honours the caller's context.
	writing chan struct{}

	// mu guards appended, which is closed and replaced after every successful append
	// to wake the Waits that were sleeping on it.
	mu       sync.Mutex
	appended chan struct{}

	closed atomic.Bool
	done   chan struct{} // closed by Close
}

var _ event.Log = (*Log)(nil)

// writeSpillPages is how many pages an append may change before SQLite
// writes them to the write-ahead log ahead of its commit (cache_spill). The
// writer's cache holds SQLite's default 2,000 KiB, 500 pages, which an append
// of the policy evaluator's (2,000 verdicts of 1.2 KB, about 800 pages)
// outgrows: SQLite then spilled pages to make room mid-append and wrote the
// ones changed again a second time. 4,096 pages, 16 MiB, holds any append
// Backlot makes whole; the pages beyond the cache's 500 are freed once the
// append has committed, as they were before.
const writeSpillPages = 4096

// Open opens the event log in the SQLite file at path, creating the file and its
// schema if needed and upgrading an older schema. The directory must exist. Options'
// zero fields get their defaults; Open fails if the options are invalid, if the file
// is not an SQLite database, or if its schema is newer than this binary knows.
//
// The file is put in WAL mode with synchronous=NORMAL (FULL if Options.FullSync).
// In WAL mode with NORMAL, a committed append is in the write-ahead log before Append
// returns, so it survives a crash or kill of the process (the operating system still
// writes the file out); only a power loss or operating-system crash can lose the last
// appends, and even then the file stays consistent.
//
// Several Logs may open the same file, in one process or several.
func Open(path string, opts Options) (*Log, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("sqlitelog: open: path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitelog: open %s: %w", path, err)
	}
	// Processes opening a new file at once race to set it up (WAL mode, the
	// schema); SQLite answers some of those races with SQLITE_BUSY at once,
	// without its busy handler, so the loser tries again within BusyTimeout.
	deadline := time.Now().Add(opts.BusyTimeout)
	for {
		l, err := open(abs, opts)
		if err == nil {
			return l, nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return nil, fmt.Errorf("sqlitelog: open %s: %w", path, err)
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
}

// isBusy reports an error of a database locked by another connection.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

func open(path string, opts Options) (_ *Log, err error) {
	l := &Log{
		opts:     opts,
		writing:  make(chan struct{}, 1),
		appended: make(chan struct{}),
		done:     make(chan struct{}),
	}
	defer func() {
		if err != nil {
			l.closeDBs()
		}
	}()
	ctx := context.Background()
	syncMode := "NORMAL"
	if opts.FullSync {
		syncMode = "FULL"
	}
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)

	// The writer: one connection, and transactions that take the write lock at BEGIN
	// (_txlock=immediate) so that two processes never deadlock upgrading a read lock.
	l.wdb, err = sql.Open("sqlite", sqlitekit.DSN(path,
		"busy_timeout("+busy+")", "journal_mode(WAL)", "synchronous("+syncMode+")", "cache_spill("+strconv.Itoa(writeSpillPages)+")",
	)+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	l.wdb.SetMaxOpenConns(1)
	l.wdb.SetMaxIdleConns(1)
	l.wdb.SetConnMaxLifetime(0)
	l.wdb.SetConnMaxIdleTime(0)
	var mode string
	if err = l.wdb.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, err
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("journal_mode is %q, want wal (is the file on a file system that supports shared memory?)", mode)
	}
	if err = migrate(ctx, l.wdb); err != nil {
		return nil, err
	}
	if err = l.fillLinks(ctx); err != nil {
		return nil, fmt.Errorf("hash chain: %w", err)
	}
	for k := range l.inserts {
		if l.inserts[k], err = l.wdb.PrepareContext(ctx, insertSQL(1<<k)); err != nil {
			return nil, err
		}
	}

	// The readers: read-only connections; in WAL mode they never wait for the writer.
	mmap := max(opts.MmapSize, 0)
	l.rdb, err = sql.Open("sqlite", sqlitekit.DSN(path,
		"busy_timeout("+busy+")", "query_only(1)", "mmap_size("+strconv.FormatInt(mmap, 10)+")",
		"cache_size(-"+strconv.Itoa(opts.ReadCacheKiB)+")",
	))
	if err != nil {
		return nil, err
	}
	l.rdb.SetMaxOpenConns(opts.ReadConns)
	l.rdb.SetMaxIdleConns(opts.ReadConns)
	l.rdb.SetConnMaxIdleTime(time.Minute)
	if l.readStmt, err = l.rdb.PrepareContext(ctx, readSQL); err != nil {
		return nil, err
	}
	if l.headStmt, err = l.rdb.PrepareContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM events`); err != nil {
		return nil, err
	}
	return l, nil
}

// Head returns the position of the last event in the file, or zero for an empty log.
// It reads the file, so it includes appends made by other Logs. After Close it returns
// event.ErrClosed.
func (l *Log) Head(ctx context.Context) (int64, error) {
	if l.closed.Load() {
		return 0, event.ErrClosed
	}
	var head int64
	if err := l.headStmt.QueryRowContext(ctx).Scan(&head); err != nil {
		return 0, l.fail("head", err)
	}
	return head, nil
}

// Wait blocks until the head is greater than after and returns the head. An append
// through this Log wakes it at once; an append through another Log on the same file
// is noticed within Options.PollInterval. It returns ctx.Err() when ctx ends first and
// event.ErrClosed when the Log is closed, including while Wait is blocked.
func (l *Log) Wait(ctx context.Context, after int64) (int64, error) {
	var tick <-chan time.Time
	for {
		// Take the channel before reading the head: an append that commits after the
		// read closes this channel, so no wake-up is lost.
		appended := l.appendedChan()
		head, err := l.Head(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, err
		}
		if head > after {
			return head, nil
		}
		if tick == nil {
			t := time.NewTicker(l.opts.PollInterval)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-l.done:
			return 0, event.ErrClosed
		case <-appended:
		case <-tick:
		}
	}
}

// appendedChan returns the channel the next successful append closes.
func (l *Log) appendedChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}

// wake wakes every Wait sleeping on the current channel.
func (l *Log) wake() {
	l.mu.Lock()
	close(l.appended)
	l.appended = make(chan struct{})
	l.mu.Unlock()
}

// Close wakes blocked Waits with event.ErrClosed, waits for running statements to
// finish and closes the file; the last Log to close a file checkpoints the
// write-ahead log into it. Every later call, Close included, returns event.ErrClosed.
func (l *Log) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return event.ErrClosed
	}
	close(l.done)
	if err := l.closeDBs(); err != nil {
		return fmt.Errorf("sqlitelog: close: %w", err)
	}
	return nil
}

func (l *Log) closeDBs() error {
	var errs []error
	for _, s := range append(l.inserts[:], l.readStmt, l.headStmt) {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	// Readers first, so that the writer is the last connection and checkpoints.
	for _, db := range []*sql.DB{l.rdb, l.wdb} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// fail wraps an error of operation op, or returns event.ErrClosed when the Log was
// closed while the operation ran.
func (l *Log) fail(op string, err error) error {
	if l.closed.Load() {
		return event.ErrClosed
	}
	return fmt.Errorf("sqlitelog: %s: %w", op, err)
}
