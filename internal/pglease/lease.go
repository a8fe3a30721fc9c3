package pglease

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultTTL is how long a lease lasts without renewal.
const DefaultTTL = 2 * time.Minute

// DefaultPollEvery is how often Acquire tries a held name again.
const DefaultPollEvery = 100 * time.Millisecond

// DB is what a Lock needs of PostgreSQL: *pgxpool.Pool (pgkit.NewPool) has
// these methods.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options configures a Lock.
type Options struct {
	// TTL is how long a lease lasts unless renewed; default DefaultTTL.
	TTL time.Duration
	// RenewEvery is how often a held lease is renewed; default TTL/3.
	RenewEvery time.Duration
	// PollEvery is how often Acquire tries again; default DefaultPollEvery.
	PollEvery time.Duration
	// Logger receives failed renewals and releases; default slog.Default().
	Logger *slog.Logger
	// Linger is how long a released lease stays held by this holder, still
	// renewed, before it is freed in the database: an Acquire or a Claim of
	// the name by this Lock within it takes the lease back without a
	// statement (Continuous), so a file watcher's refreshes of one location,
	// one after another, neither wait for the last one's release nor claim
	// anew. Another holder waits up to Linger longer for the name (its
	// Acquire polls on). Zero frees a released lease at once; Close frees
	// the lingering ones.
	Linger time.Duration
}

func (o *Options) setDefaults() {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = o.TTL / 3
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Lock hands out leases on names (location ids) to one holder. It is safe for
// concurrent use; a process makes one Lock, with a holder name of its own.
type Lock struct {
	db     DB
	holder string
	opts   Options

	mu sync.Mutex
	// idle are the leases released within Linger and not yet freed, by name.
	idle   map[string]*held
	closed bool
}

var _ catalogsvc.LocationLock = (*Lock)(nil)

// New returns the Lock of holder on db, after creating the lease table if
// needed. An empty holder gets a unique one (host, process and a random part).
func New(ctx context.Context, db DB, holder string, opts Options) (*Lock, error) {
	opts.setDefaults()
	if holder == "" {
		holder = UniqueHolder()
	}
	if err := pgkit.Migrate(ctx, db, "pglease", migrations, "migrations/*.sql"); err != nil {
		return nil, fmt.Errorf("location leases: %w", err)
	}
	return &Lock{db: db, holder: holder, opts: opts, idle: map[string]*held{}}, nil
}

// UniqueHolder returns a holder name unique to this process: host, process id
// and a random part, so a restarted process is another holder.
func UniqueHolder() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Holder returns the name this Lock holds leases under.
func (l *Lock) Holder() string { return l.holder }

// Acquire blocks until this holder holds the name's lease, trying every
// PollEvery, or until ctx ends. A name whose holder died is taken over once its
// lease expired.
func (l *Lock) Acquire(ctx context.Context, name string) (catalogsvc.Lease, error) {
	for {
		lease, ok, err := l.claim(ctx, name, -1)
		if err != nil {
			return catalogsvc.Lease{}, err
		}
		if ok {
			return lease, nil
		}
		select {
		case <-ctx.Done():
			return catalogsvc.Lease{}, fmt.Errorf("location lease %s: wait: %w", name, ctx.Err())
		case <-time.After(l.opts.PollEvery):
		}
	}
}

// Claim takes the name's lease only when it is free (or expired) and no
// refresh of it was released within fresh; ok is false otherwise.
func (l *Lock) Claim(ctx context.Context, name string, fresh time.Duration) (catalogsvc.Lease, bool, error) {
	if fresh < 0 {
		fresh = 0
	}
	return l.claim(ctx, name, fresh)
}

// claim takes a free lease; fresh < 0 ignores when it was last refreshed.
func (l *Lock) claim(ctx context.Context, name string, fresh time.Duration) (catalogsvc.Lease, bool, error) {
	switch h, ok := l.takeBack(name, fresh); {
	case h != nil:
		return h.lease(true), true, nil
	case !ok:
		return catalogsvc.Lease{}, false, nil
	}
	var last string
	err := l.db.QueryRow(ctx, `INSERT INTO location_leases AS l (name, holder, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE
		SET holder = excluded.holder, expires_at = excluded.expires_at,
		    last_holder = CASE WHEN l.holder <> '' THEN l.holder ELSE l.last_holder END
		WHERE (l.holder = '' OR l.expires_at < now())
		  AND ($4::bigint < 0 OR l.refreshed_at IS NULL OR l.refreshed_at <= now() - $4 * interval '1 microsecond')
		RETURNING last_holder`, name, l.holder, l.opts.TTL.Microseconds(), fresh.Microseconds()).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return catalogsvc.Lease{}, false, nil
	}
	if err != nil {
		return catalogsvc.Lease{}, false, fmt.Errorf("location lease %s: claim: %w", name, err)
	}
	h := &held{l: l, name: name, stop: make(chan struct{}), done: make(chan struct{})}
	go h.renew()
	return h.lease(last == l.holder), true, nil
}

// takeBack takes the name's lingering lease (Options.Linger) out of the idle
// ones. It answers the lease when the caller may have it; nil and ok when
// there is none (or it was lost), so the database decides; nil and not ok
// when fresh >= 0 and the lease was released within fresh, as the
// database's refreshed_at would have said.
func (l *Lock) takeBack(name string, fresh time.Duration) (h *held, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h = l.idle[name]
	if h == nil {
		return nil, true
	}
	select {
	case <-h.done:
		// Its renewal found it taken over: it is not ours to hand out.
		delete(l.idle, name)
		return nil, true
	default:
	}
	if fresh >= 0 && time.Since(h.idleSince) < fresh {
		return nil, false
	}
	delete(l.idle, name)
	h.timer.Stop() // a timer that fired finds the lease gone from idle
	return h, true
}

// Close frees every lingering lease (Options.Linger) now; a lease released
// after Close is freed at once. Leases in use stay held until released.
func (l *Lock) Close() {
	l.mu.Lock()
	l.closed = true
	idle := l.idle
	l.idle = map[string]*held{}
	for _, h := range idle {
		h.timer.Stop()
	}
	l.mu.Unlock()
	for _, h := range idle {
		h.free()
	}
}

// held is a lease this holder holds: renewed until freed.
type held struct {
	l    *Lock
	name string
	stop chan struct{}
	done chan struct{}
	// idleSince and timer are set while the lease lingers (park), under
	// l.mu.
	idleSince time.Time
	timer     *time.Timer
}

// lease hands h out: its Release (once; a second call does nothing) parks
// it for Options.Linger, or frees it when there is no linger.
func (h *held) lease(continuous bool) catalogsvc.Lease {
	var once sync.Once
	return catalogsvc.Lease{Release: func() { once.Do(h.park) }, Continuous: continuous}
}

// park keeps the released h held for Options.Linger, then frees it unless
// this Lock took it back meanwhile (takeBack).
func (h *held) park() {
	l := h.l
	if l.opts.Linger <= 0 {
		h.free()
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		h.free()
		return
	}
	h.idleSince = time.Now()
	l.idle[h.name] = h
	h.timer = time.AfterFunc(l.opts.Linger, func() {
		l.mu.Lock()
		if l.idle[h.name] != h {
			l.mu.Unlock()
			return // taken back, or freed by Close
		}
		delete(l.idle, h.name)
		l.mu.Unlock()
		h.free()
	})
	l.mu.Unlock()
}

func (h *held) renew() {
	defer close(h.done)
	t := time.NewTicker(h.l.opts.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), h.l.opts.RenewEvery)
		tag, err := h.l.db.Exec(ctx, `UPDATE location_leases SET expires_at = now() + $3 * interval '1 microsecond'
			WHERE name = $1 AND holder = $2`, h.name, h.l.holder, h.l.opts.TTL.Microseconds())
		cancel()
		switch {
		case err != nil:
			h.l.opts.Logger.Error("location lease not renewed; retrying", "name", h.name, "holder", h.l.holder, "err", err)
		case tag.RowsAffected() == 0:
			h.l.opts.Logger.Error("location lease lost: it expired and another holder took it", "name", h.name, "holder", h.l.holder)
			return
		}
	}
}

// free stops renewing and frees the lease, recording the refresh as done
// now by this holder. It does nothing to a lease another holder took over.
// It is called once per held: by park, by its timer or by Close.
func (h *held) free() {
	close(h.stop)
	<-h.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := h.l.db.Exec(ctx, `UPDATE location_leases
		SET holder = '', expires_at = NULL, refreshed_at = now(), last_holder = $2
		WHERE name = $1 AND holder = $2`, h.name, h.l.holder)
	if err != nil {
		h.l.opts.Logger.Error("location lease not released; it expires by itself", "name", h.name, "holder", h.l.holder, "err", err)
	}
}
