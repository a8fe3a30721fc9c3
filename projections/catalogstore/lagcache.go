package catalogstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of LagOptions, chosen on purpose:
const (
	// DefaultExactUpTo is the match count up to which a count or facet answer is
	// computed exactly on every request after a write: counting 10,000 index
	// entries costs about a millisecond, the cost of a filtered page.
	DefaultExactUpTo = 10000
	// DefaultMaxLag is how old a lagging answer may be: a total or a facet over
	// more than DefaultExactUpTo matches may miss the last 5 seconds of writes,
	// about the time a reader takes to look at a page.
	DefaultMaxLag = 5 * time.Second
	// DefaultRefreshEvery is the least time between two background recomputes
	// of one key: under a steady trickle of writes a large count costs one
	// recount a second, whatever the number of requests and writes.
	DefaultRefreshEvery = time.Second
	// DefaultMaxEntries bounds the answers kept; past it one is dropped per new key.
	DefaultMaxEntries = 4096
	// DefaultMaxRefreshes is how many background recomputes run at once: one per
	// core of the 2-core machine the goals are measured on.
	DefaultMaxRefreshes = 2
	// refreshTimeout bounds a background recompute, which no request waits for.
	refreshTimeout = 2 * time.Minute
)

// LagOptions configures a LagCache. Zero fields take the defaults.
type LagOptions struct {
	// ExactUpTo is the match count up to which an answer is computed exactly
	// on the request; default DefaultExactUpTo.
	ExactUpTo int
	// MaxLag is the age up to which an answer over more matches is served
	// after a write while one background recompute refreshes it; default
	// DefaultMaxLag. An answer older than that is recomputed on the request.
	MaxLag time.Duration
	// RefreshEvery is the least age at which a lagging answer is refreshed
	// in the background; default DefaultRefreshEvery, at most MaxLag.
	RefreshEvery time.Duration
	// MaxEntries bounds the number of answers kept; default DefaultMaxEntries.
	MaxEntries int
	// MaxRefreshes bounds the background recomputes running at once; default
	// DefaultMaxRefreshes. A request finding every slot taken serves its
	// lagging answer and leaves the refresh to a later request.
	MaxRefreshes int
}

func (o *LagOptions) setDefaults() {
	if o.ExactUpTo <= 0 {
		o.ExactUpTo = DefaultExactUpTo
	}
	if o.MaxLag <= 0 {
		o.MaxLag = DefaultMaxLag
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = DefaultRefreshEvery
	}
	o.RefreshEvery = min(o.RefreshEvery, o.MaxLag)
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxRefreshes <= 0 {
		o.MaxRefreshes = DefaultMaxRefreshes
	}
}

// LagStats counts a LagCache's work since it was made.
type LagStats struct {
	// Recomputes is how many full computations ran (on a request or in the
	// background); answers under ExactUpTo are not counted.
	Recomputes int64
	// Lagging is how many answers were served from an answer older than the
	// read model.
	Lagging int64
}

// Answer is a LagCache's answer: Value, and whether it was computed before the
// read model's last write (Lagging), at most MaxLag ago.
type Answer struct {
	Value   any
	Lagging bool
}

// SmallFunc computes an answer if its match set holds at most limit matches
// (ok true), at a cost bounded by limit; otherwise it reports ok false.
type SmallFunc func(ctx context.Context, limit int) (v any, ok bool, err error)

// FullFunc computes an answer whatever it costs, with the generation of the
// read model it read first (the answer is at least as new as that), and
// whether its match set held at most limit matches (few), so that the next
// request after a write computes it through its SmallFunc again.
type FullFunc func(ctx context.Context, limit int) (v any, gen string, few bool, err error)

// LagCache keeps count and facet answers so that no request pays for counting
// a large match set after every write. An answer is keyed by its statement and
// stored with the generation of the read model it was computed at:
//   - at the same generation it is served as it is (exact);
//   - after a write, an answer over at most ExactUpTo matches is computed
//     again on the request (exact and fresh, at a bounded cost);
//   - over more, the last answer is served if it is at most MaxLag old, and
//     one background recompute per key (at most MaxRefreshes at once, and at
//     most one per RefreshEvery) brings the new one;
//   - with no answer, or one older than MaxLag, it is computed on the request,
//     once per key however many requests ask at the same time.
//
// A LagCache is safe for concurrent use; the zero value is not usable, use
// NewLagCache.
type LagCache struct {
	opts       LagOptions
	sem        chan struct{}
	mu         sync.Mutex
	entries    map[string]*lagEntry
	recomputes atomic.Int64
	lagging    atomic.Int64
}

type lagEntry struct {
	has    bool
	few    bool // the answer's match set held at most ExactUpTo matches
	gen    string
	value  any
	at     time.Time // when the computation of value started
	flight *lagFlight
}

// lagFlight is one full computation of a key; waiters block on done.
type lagFlight struct {
	done chan struct{}
	err  error
}

// NewLagCache returns an empty cache with opts (zero fields take defaults).
func NewLagCache(opts LagOptions) *LagCache {
	opts.setDefaults()
	return &LagCache{opts: opts, sem: make(chan struct{}, opts.MaxRefreshes), entries: map[string]*lagEntry{}}
}

// Options returns the cache's options, defaults filled in.
func (c *LagCache) Options() LagOptions { return c.opts }

// Stats returns the work counted so far.
func (c *LagCache) Stats() LagStats {
	return LagStats{Recomputes: c.recomputes.Load(), Lagging: c.lagging.Load()}
}

// Get answers key at the read model's current generation gen: from the cache
// when the answer is of gen, else through small, else from a lagging answer
// (refreshed in the background by full), else through full on the request.
// full may run after Get returns, so it must not use anything of the request
// but its ctx, which it gets detached from the request's cancellation.
func (c *LagCache) Get(ctx context.Context, key, gen string, small SmallFunc, full FullFunc) (Answer, error) {
	if a, ok := c.exact(key, gen); ok {
		return a, nil
	}
	// An answer known to be over many matches, and recent, is not probed
	// again: its refresh finds out if the matches became few.
	if !c.lagsBehind(key) {
		start := time.Now()
		v, ok, err := small(ctx, c.opts.ExactUpTo)
		if err != nil {
			return Answer{}, err
		}
		if ok {
			c.store(key, gen, v, start)
			return Answer{Value: v}, nil
		}
	}
	for {
		c.mu.Lock()
		e := c.entry(key)
		switch {
		case e.has && e.gen == gen:
			// A recompute finished since: it is of the current generation.
			c.mu.Unlock()
			return Answer{Value: e.value}, nil
		case e.has && time.Since(e.at) <= c.opts.MaxLag:
			a := Answer{Value: e.value, Lagging: true}
			noteLag(ctx, time.Since(e.at))
			if e.flight == nil && time.Since(e.at) >= c.opts.RefreshEvery {
				select {
				case c.sem <- struct{}{}:
					f := c.begin(e)
					c.mu.Unlock()
					go func() {
						defer func() { <-c.sem }()
						rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
						defer cancel()
						c.run(key, f, rctx, full)
					}()
					c.lagging.Add(1)
					return a, nil
				default:
				}
			}
			c.mu.Unlock()
			c.lagging.Add(1)
			return a, nil
		case e.flight != nil:
			f := e.flight
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return Answer{}, ctx.Err()
			}
			if f.err != nil {
				return Answer{}, f.err
			}
			c.mu.Lock()
			e = c.entries[key]
			c.mu.Unlock()
			if e != nil && e.has {
				return c.answerOf(ctx, e, gen), nil
			}
			// Dropped from a full cache meanwhile: look again.
		default:
			f := c.begin(e)
			c.mu.Unlock()
			if err := c.run(key, f, ctx, full); err != nil {
				return Answer{}, err
			}
			c.mu.Lock()
			e = c.entries[key]
			c.mu.Unlock()
			if e != nil && e.has {
				return c.answerOf(ctx, e, gen), nil
			}
		}
	}
}

// answerOf is e's answer to a request at generation gen, noted on ctx's
// LagNote when it lags; c.mu is not held, e is read under it.
func (c *LagCache) answerOf(ctx context.Context, e *lagEntry, gen string) Answer {
	c.mu.Lock()
	a, at := Answer{Value: e.value, Lagging: e.gen != gen}, e.at
	c.mu.Unlock()
	if a.Lagging {
		noteLag(ctx, time.Since(at))
	}
	return a
}

// NeedsProbe says whether Get of key at gen would call its SmallFunc: there
// is neither an answer of gen nor a recent one over many matches. An adapter
// may then run the probe together with other statements and hand Get a
// SmallFunc that returns its result.
func (c *LagCache) NeedsProbe(key, gen string) bool {
	if _, ok := c.exact(key, gen); ok {
		return false
	}
	return !c.lagsBehind(key)
}

// exact returns the answer of key if it is of generation gen.
func (c *LagCache) exact(key, gen string) (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.has && e.gen == gen {
		return Answer{Value: e.value}, true
	}
	return Answer{}, false
}

// lagsBehind says whether key has a recent answer over many matches.
func (c *LagCache) lagsBehind(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return ok && e.has && !e.few && time.Since(e.at) <= c.opts.MaxLag
}

// entry returns key's entry, making room for it; c.mu is held.
func (c *LagCache) entry(key string) *lagEntry {
	if e, ok := c.entries[key]; ok {
		return e
	}
	if len(c.entries) >= c.opts.MaxEntries {
		for k, old := range c.entries {
			if old.flight == nil {
				delete(c.entries, k)
				break
			}
		}
	}
	e := &lagEntry{}
	c.entries[key] = e
	return e
}

// begin marks a full computation of e as running; c.mu is held.
func (c *LagCache) begin(e *lagEntry) *lagFlight {
	f := &lagFlight{done: make(chan struct{})}
	e.flight = f
	return f
}

// run computes key with full and stores the answer, then ends flight f.
func (c *LagCache) run(key string, f *lagFlight, ctx context.Context, full FullFunc) error {
	c.recomputes.Add(1)
	start := time.Now()
	v, gen, few, err := full(ctx, c.opts.ExactUpTo)
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && e.flight == f {
		e.flight = nil
		if err == nil {
			c.set(e, gen, v, few, start)
		}
	}
	c.mu.Unlock()
	f.err = err
	close(f.done)
	return err
}

// store keeps v as key's answer at gen, computed from start on.
func (c *LagCache) store(key, gen string, v any, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(c.entry(key), gen, v, true, start)
}

// set keeps the newer of e's answer and v; c.mu is held.
func (c *LagCache) set(e *lagEntry, gen string, v any, few bool, start time.Time) {
	if e.has && e.at.After(start) {
		return
	}
	e.has, e.gen, e.value, e.few, e.at = true, gen, v, few, start
}
