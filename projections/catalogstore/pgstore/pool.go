package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultMaxConns is the size of a Pool when the caller names none.
const DefaultMaxConns = 8

// pingAfter is how long a connection may sit idle before it is checked with a
// ping on its way out of the pool, so a server restart costs one failed ping per
// idle connection instead of a failed query.
const pingAfter = time.Second

// ErrPoolClosed is returned by a Pool used after Close.
var ErrPoolClosed = errors.New("pgstore: pool closed")

// Pool is a small pool of PostgreSQL connections (pgx). It opens connections on
// demand up to its size, hands out idle ones first, pings a connection that sat
// idle for more than a second before reusing it, and drops connections that
// broke or were returned inside a transaction. Its methods are safe for
// concurrent use. Exec, Query, QueryRow and Begin have the signatures of
// pgxpool.Pool's, so code written against them works with either.
type Pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection handed out or being opened

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	conn  *pgx.Conn
	since time.Time
}

// NewPool returns a pool of at most maxConns connections (DefaultMaxConns when
// zero or less) to the server at url, a postgres:// URL or keyword/value
// string. It opens no connection; the first use does.
func NewPool(url string, maxConns int) (*Pool, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse PostgreSQL URL: %w", err)
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	// Statements are prepared once per connection, but planned for their values
	// every time: a filter on a rare value and one on a common value need
	// different plans, which a generic plan cannot give.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	return &Pool{cfg: cfg, slots: make(chan struct{}, maxConns)}, nil
}

// Acquire returns a connection for the caller's sole use until Release. It
// waits for a free slot when all are in use, or until ctx ends.
func (p *Pool) Acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("pgstore: wait for a connection: %w", ctx.Err())
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.slots
			return nil, ErrPoolClosed
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		ic := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if time.Since(ic.since) < pingAfter {
			return ic.conn, nil
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := ic.conn.Ping(pctx)
		cancel()
		if err == nil {
			return ic.conn, nil
		}
		ic.conn.Close(context.Background())
	}
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("pgstore: connect to PostgreSQL: %w", err)
	}
	return conn, nil
}

// Release returns a connection taken with Acquire. A connection that is closed,
// busy or inside a transaction is closed instead of kept.
func (p *Pool) Release(conn *pgx.Conn) {
	defer func() { <-p.slots }()
	pc := conn.PgConn()
	p.mu.Lock()
	keep := !p.closed && !conn.IsClosed() && !pc.IsBusy() && pc.TxStatus() == 'I'
	if keep {
		p.idle = append(p.idle, idleConn{conn: conn, since: time.Now()})
	}
	p.mu.Unlock()
	if !keep {
		conn.Close(context.Background())
	}
}

// Close closes the idle connections and makes later calls fail; connections in
// use are closed when released.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		ic.conn.Close(context.Background())
	}
}

// Ping checks that the server answers.
func (p *Pool) Ping(ctx context.Context) error {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(conn)
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping PostgreSQL: %w", err)
	}
	return nil
}

// Exec runs a statement on a pooled connection.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer p.Release(conn)
	return conn.Exec(ctx, sql, args...)
}

// Query runs a query on a pooled connection, which goes back to the pool when
// the rows are closed or read to the end.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		p.Release(conn)
		return nil, err
	}
	return &poolRows{Rows: rows, release: func() { p.Release(conn) }}, nil
}

// QueryRow runs a query expected to return at most one row; the connection
// goes back to the pool when the row is scanned.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return poolRow{rows}
}

// Begin starts a transaction on a pooled connection, which goes back to the
// pool at Commit or Rollback.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx is Begin with options.
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		p.Release(conn)
		return nil, err
	}
	return &poolTx{Tx: tx, release: func() { p.Release(conn) }}, nil
}

// poolRows releases its connection once, when closed or exhausted.
type poolRows struct {
	pgx.Rows
	release func()
	done    bool
}

func (r *poolRows) Next() bool {
	if r.done {
		return false
	}
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *poolRows) Close() {
	r.Rows.Close()
	if !r.done {
		r.done = true
		r.release()
	}
}

type poolRow struct{ rows pgx.Rows }

func (r poolRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// poolTx releases its connection once, at Commit or Rollback.
type poolTx struct {
	pgx.Tx
	release func()
	done    bool
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.finish()
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.finish()
	return err
}

func (t *poolTx) finish() {
	if !t.done {
		t.done = true
		t.release()
	}
}
