package asof

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
)

// keep is how many built instants stay open.
const keep = 4

// pageSize is how many versions are read and folded at a time.
const pageSize = 2000

// DefaultMaxBuilding is how many read models of past instants are built at
// once by default: each build reads and folds the whole catalog of its
// instant, so a few keep a burst of asOf reads from taking every core and the
// disk.
const DefaultMaxBuilding = 2

// BusyRetryAfter is how long a reader refused for MaxBuilding is told to
// wait: about the time one build of a large catalog takes.
const BusyRetryAfter = 5 * time.Second

// BusyError is an asOf read refused because MaxBuilding read models are being
// built already. It is fault.Unavailable (503 ServiceUnavailableError at the
// HTTP edge, with a Retry-After of RetryAfter).
type BusyError struct {
	// Limit is the number of builds at once.
	Limit int
	// RetryAfter is when to ask again.
	RetryAfter time.Duration
}

// Error names the limit and when to retry.
func (e *BusyError) Error() string {
	return fmt.Sprintf("%d catalogs of past instants are being built, the limit (asof MaxBuilding); retry the asOf read in %s", e.Limit, e.RetryAfter)
}

// Is reports whether target is fault.Unavailable.
func (e *BusyError) Is(target error) bool { return target == fault.Unavailable }

// RetryAfterDelay is when to ask again, for the Retry-After header.
func (e *BusyError) RetryAfterDelay() time.Duration { return e.RetryAfter }

// Option changes a setting of New.
type Option func(*Catalogs)

// MaxBuilding sets how many read models are built at once (default
// DefaultMaxBuilding); a read needing one more is refused with a *BusyError.
func MaxBuilding(n int) Option {
	return func(c *Catalogs) {
		if n > 0 {
			c.building = make(chan struct{}, n)
		}
	}
}

// SnapshotsOnly makes At build a read model for every instant, even when the
// history answers the catalog at an instant directly (history.CatalogReader):
// the reference the direct answers are compared with.
func SnapshotsOnly() Option {
	return func(c *Catalogs) { c.snapshotsOnly = true }
}

// Catalogs answers the catalog at past instants: directly from the history
// when it can (history.CatalogReader), else from read models it builds and keeps.
type Catalogs struct {
	hist          history.Reader
	dir           string
	building      chan struct{} // a token per build under way
	snapshotsOnly bool

	mu      sync.Mutex
	entries map[string]*entry
	order   []string // least recently used first
	seq     int
}

type entry struct {
	once  sync.Once
	store *sqlitecatalog.Store
	path  string
	err   error
	// built is set, under Catalogs.mu, once the store is ready; an entry
	// still building is never evicted.
	built bool
}

// evictGrace is how long an evicted read model stays open: a reader that
// got it just before may still be reading, for at most the server's write
// timeout.
const evictGrace = 2 * time.Minute

// New returns Catalogs reading hist and building read models under dir.
func New(hist history.Reader, dir string, opts ...Option) (*Catalogs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("as-of scratch folder: %w", err)
	}
	c := &Catalogs{hist: hist, dir: dir, entries: map[string]*entry{}, building: make(chan struct{}, DefaultMaxBuilding)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// At returns the catalog as it was at the instant. A history that answers it
// directly (history.CatalogReader) does, with nothing built; otherwise, when
// the instant's read model is not built yet and MaxBuilding builds are under
// way, it returns a *BusyError at once.
func (c *Catalogs) At(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
	if d, ok := c.hist.(history.CatalogReader); ok && !c.snapshotsOnly {
		r, err := d.CatalogAt(ctx, at)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, history.ErrNoCatalogRows) {
			return nil, fmt.Errorf("history at %s: %w", at, err)
		}
	}
	return c.snapshot(ctx, at)
}

// snapshot returns the instant's built read model, building it first when needed.
func (c *Catalogs) snapshot(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
	applied, err := c.hist.Positions(ctx)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	key := at.String() + "@" + applied.String()
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		c.seq++
		e = &entry{path: filepath.Join(c.dir, fmt.Sprintf("asof-%d.db", c.seq))}
		c.entries[key] = e
	}
	c.touch(key)
	// Evict the least recently used read models that are built; one still
	// building (its builder and readers are waiting for it) stays, and so
	// does the one just asked for.
	var evicted []*entry
	for i := 0; len(c.order) > keep && i < len(c.order)-1; {
		old := c.order[i]
		if o := c.entries[old]; o != nil && !o.built {
			i++
			continue
		}
		c.order = slices.Delete(c.order, i, i+1)
		if o := c.entries[old]; o != nil {
			evicted = append(evicted, o)
		}
		delete(c.entries, old)
	}
	c.mu.Unlock()
	for _, old := range evicted {
		time.AfterFunc(evictGrace, old.close)
	}
	e.once.Do(func() {
		// Readers of one instant share its build; only builds count.
		select {
		case c.building <- struct{}{}:
			defer func() { <-c.building }()
			e.store, e.err = c.build(ctx, at, e.path)
		default:
			e.err = &BusyError{Limit: cap(c.building), RetryAfter: BusyRetryAfter}
		}
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		if c.entries[key] == e {
			delete(c.entries, key)
			c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == key })
		}
		return nil, e.err
	}
	e.built = true
	return e.store, nil
}

func (c *Catalogs) touch(key string) {
	for i, k := range c.order {
		if k == key {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	c.order = append(c.order, key)
}

// build folds the versions valid at the instant into a fresh read model.
func (c *Catalogs) build(ctx context.Context, at history.Instant, path string) (*sqlitecatalog.Store, error) {
	os.Remove(path)
	store, err := sqlitecatalog.Open(path, sqlitecatalog.Options{CacheKiB: 8192, ReadConns: 2})
	if err != nil {
		return nil, err
	}
	// A fresh read model, which no one reads before it is built, loads fastest
	// without its secondary indexes, built once at the end.
	if err := store.BeginReplay(ctx); err != nil {
		store.Close()
		return nil, err
	}
	done := func() (*sqlitecatalog.Store, error) {
		if err := store.EndBulk(ctx); err != nil {
			store.Close()
			return nil, err
		}
		return store, nil
	}
	var pos int64
	after := ""
	for {
		vs, err := c.hist.Current(ctx, at, after, pageSize)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("history at %s: %w", at, err)
		}
		if len(vs) == 0 {
			return done()
		}
		evs := make([]event.Envelope, 0, len(vs))
		for i := range vs {
			v := &vs[i]
			ev, err := event.New(event.TypeEntityUpserted, v.Key, event.EntityUpserted{
				Ref: v.Ref, UID: v.UID, Hash: v.Hash, Entity: v.Body, LocationID: v.LocationID, ManagedBy: v.ManagedBy,
			}, event.Meta{Time: v.ValidFrom.Time, Actor: v.Actor})
			if err != nil {
				store.Close()
				return nil, err
			}
			pos++
			ev.Position = pos
			evs = append(evs, ev)
		}
		if err := store.Apply(ctx, evs); err != nil {
			store.Close()
			return nil, fmt.Errorf("as-of read model at %s: %w", at, err)
		}
		after = vs[len(vs)-1].Key
		if len(vs) < pageSize {
			return done()
		}
	}
}

func (e *entry) close() {
	if e.store != nil {
		e.store.Close()
	}
	os.Remove(e.path)
	os.Remove(e.path + "-wal")
	os.Remove(e.path + "-shm")
}

// Close closes every built read model and removes its files.
func (c *Catalogs) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		e.close()
		delete(c.entries, k)
	}
	c.order = nil
	return nil
}
