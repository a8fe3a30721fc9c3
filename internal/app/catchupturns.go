package app

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// readLoad counts the catalog's reads in flight in a serve process (the
// catalog API's requests that are not writes), which the catch-up of the
// history and the badges gives way to (catchUpTurns). A read stays counted
// for readLinger after it ends: a client that sends its requests one after
// another leaves gaps of microseconds between them, and a batch let in
// during such a gap would share the cores with the next request. The reads
// of the api processes of a split deployment are counted too, as they are
// heard (readbeats.go). It is safe for concurrent use; a nil readLoad counts
// nothing and is never busy.
type readLoad struct {
	mu      sync.Mutex
	n       int
	begun   uint64
	lastEnd time.Time
	// heardUntil is when the last beat heard from another process's reads
	// stops counting (heard).
	heardUntil time.Time
	// heardFor is how long a beat heard counts (heardLinger when zero);
	// tests that must not depend on the beats' timeliness set it longer.
	heardFor time.Duration
	// began receives a value, without blocking, when a read begins: it
	// wakes the beats that tell other processes (tellReads).
	began chan struct{}
}

// readLinger is how long a read counts as in flight after it ended.
const readLinger = 20 * time.Millisecond

// newReadLoad returns a readLoad with no read in flight.
func newReadLoad() *readLoad { return &readLoad{began: make(chan struct{}, 1)} }

// begin counts a read in flight until the returned end is called (once).
func (r *readLoad) begin() (end func()) {
	if r == nil {
		return func() {}
	}
	r.mu.Lock()
	r.n++
	r.begun++
	r.mu.Unlock()
	select {
	case r.began <- struct{}{}:
	default:
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			r.n--
			r.lastEnd = time.Now()
			r.mu.Unlock()
		})
	}
}

// heard counts a beat of another process's reads (hearReads): reads are in
// flight there until heardLinger after now, and one more read has begun.
func (r *readLoad) heard(now time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begun++
	linger := r.heardFor
	if linger == 0 {
		linger = heardLinger
	}
	if until := now.Add(linger); until.After(r.heardUntil) {
		r.heardUntil = until
	}
}

// state reports whether a read is in flight at now (or ended less than
// readLinger before, or another process's was heard less than heardLinger
// before), and how many reads have begun so far (each beat heard counts as
// one).
func (r *readLoad) state(now time.Time) (busy bool, begun uint64) {
	if r == nil {
		return false, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n > 0 || now.Sub(r.lastEnd) < readLinger || now.Before(r.heardUntil), r.begun
}

// markCatalogReads counts every read of the catalog API (a request under
// /api/catalog/ that is not a write, isCatalogWrite) in r while it is served.
// A read of the catalog as of an instant waits for the history to reach the
// log's head: counting it would slow the very fold it waits for, so it is
// not counted.
func markCatalogReads(r *readLoad, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/api/catalog/") && !req.URL.Query().Has("asOf") && !isCatalogWrite(req) {
			defer r.begin()()
		}
		next.ServeHTTP(w, req)
	})
}

// catchUpTurns admits the batches of the held-back projectors (the
// history's and the badges' of every partition of a serve process) with a
// lower priority than the catalog's reads, without starving them:
//
//   - while no read is in flight, up to most batches run at once, each as
//     large as the projector's BatchSize;
//   - while reads are in flight (readLoad), one batch at a time
//     (busyMost), of at most busyBatch events;
//   - after a batch that overlapped reads, the next waits, while reads go
//     on, for pause times that batch's duration (at most maxPause).
//
// On two cores a request that shares them with four folding batches waits
// for a core at each of its steps (Go's scheduler and the kernel's give it a
// share, not a priority); with one batch, a core stays free for it. The
// pause is a duty cycle: under a steady load of reads the catch-up still
// runs 1/(1+pause) of the time, one batch at a time, so a stream of reads
// slows it and cannot stop it. The evaluator and the state feed, which do
// not take turns, wait out the pauses too (throttle). A catchUpTurns is safe
// for concurrent use.
type catchUpTurns struct {
	most      int
	reads     *readLoad
	busyMost  int
	busyBatch int
	pause     float64
	maxPause  time.Duration

	mu      sync.Mutex
	running int
	paused  time.Time // the end of the pause
	changed chan struct{}
}

// turnPoll is how often a batch waiting for its turn while reads are in
// flight looks again (they may end, or the pause).
const turnPoll = 10 * time.Millisecond

// The turns of serve's catch-up.
const (
	// serveBusyCatchUpBatches is how many catch-up batches run at once while
	// the catalog's reads are in flight: one, so one core stays free for a
	// request.
	serveBusyCatchUpBatches = 1
	// serveBusyHeldBackBatch is the catch-up's batch while reads are in
	// flight: a fifth of serveHeldBackBatch, so a batch that shares the
	// cores with requests ends in tens of milliseconds and the pause after
	// it comes soon.
	serveBusyHeldBackBatch = 200
	// serveCatchUpPause is the pause after a batch that overlapped reads, as
	// a multiple of that batch's duration: a quarter, so under a steady load
	// of reads the catch-up runs four fifths of the time, one batch at a
	// time. The pause lets some reads run alone (their median), while the
	// one batch at a time bounds the others (their 95th percentile); a
	// longer pause slows the catch-up much more than it speeds reads: with a
	// pause as long as the batch, at 100,000 entities and load 25-45 from
	// other work, the history caught up 75 s after ingestion instead of 44 s,
	// and BenchmarkReadsDuringCatchUp's catch-up ran at 6,000-9,000 events/s
	// with a pause of a half against 11,000-17,500 without a pause, for a
	// read latency within the noise of the machine.
	serveCatchUpPause = 0.25
	// serveCatchUpMaxPause bounds one pause.
	serveCatchUpMaxPause = 500 * time.Millisecond
)

// newServeCatchUpTurns returns serve's turns over reads: most batches at
// once while idle.
func newServeCatchUpTurns(most int, reads *readLoad) *catchUpTurns {
	return &catchUpTurns{most: most, reads: reads, busyMost: serveBusyCatchUpBatches, busyBatch: serveBusyHeldBackBatch,
		pause: serveCatchUpPause, maxPause: serveCatchUpMaxPause}
}

// enter returns once a batch may run, with the events it may read (size, or
// busyBatch while reads are in flight) and the leave that ends it (called
// once), or ctx's error.
func (t *catchUpTurns) enter(ctx context.Context, size int) (limit int, leave func(), err error) {
	b, err := t.take(ctx, size)
	if err != nil {
		return 0, nil, err
	}
	return b.limit, b.leave, nil
}

// turn is a batch let in by catchUpTurns.take.
type turn struct {
	t     *catchUpTurns
	limit int
	start time.Time
	busy  bool
	begun uint64
	once  sync.Once
}

// leave ends the batch (once; a later leave or giveBack does nothing).
func (b *turn) leave() { b.once.Do(func() { b.t.leave(b.start, b.busy, b.begun, true) }) }

// giveBack ends the turn of a batch that did not run (once; a later leave or
// giveBack does nothing): another batch may go in, and no pause follows.
func (b *turn) giveBack() { b.once.Do(func() { b.t.leave(b.start, b.busy, b.begun, false) }) }

// retake returns b when it was let in while reads were in flight, or no
// read is in flight now; else it gives b back and takes a turn again, which
// waits as a batch that comes now waits and is sized by the reads now. A
// batch that waited between its turn and its start (catalogFirst's yield
// to the catalog's writes) so runs as the reads at its start allow.
func (t *catchUpTurns) retake(ctx context.Context, b *turn, size int) (*turn, error) {
	if b.busy {
		return b, nil
	}
	if busy, _ := t.reads.state(time.Now()); !busy {
		return b, nil
	}
	b.giveBack()
	return t.take(ctx, size)
}

// take is enter that answers the turn, which the batch ends with its leave
// or, when it does not run after all, its giveBack.
func (t *catchUpTurns) take(ctx context.Context, size int) (*turn, error) {
	for {
		now := time.Now()
		busy, begun := t.reads.state(now)
		t.mu.Lock()
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		most, wait := t.most, time.Duration(0)
		if busy {
			most, wait = min(t.most, t.busyMost), t.paused.Sub(now)
		}
		if t.running < most && wait <= 0 {
			t.running++
			t.mu.Unlock()
			limit := size
			if busy && t.busyBatch > 0 {
				limit = min(size, t.busyBatch)
			}
			return &turn{t: t, limit: limit, start: now, busy: busy, begun: begun}, nil
		}
		changed := t.changed
		t.mu.Unlock()
		if !busy {
			// Only a leave lets another batch in.
			select {
			case <-changed:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		// The reads may end, or the pause: look again soon.
		timer := time.NewTimer(min(max(wait, time.Millisecond), turnPoll))
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
		timer.Stop()
	}
}

// leave ends a batch let in at start: a batch that ran (ran) and
// overlapped reads (in flight when it went in or when it leaves, or begun
// meanwhile) pauses the next for pause times its duration.
func (t *catchUpTurns) leave(start time.Time, busyAtStart bool, begunAtStart uint64, ran bool) {
	now := time.Now()
	busy, begun := t.reads.state(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running--
	if ran && (busyAtStart || busy || begun != begunAtStart) {
		p := time.Duration(float64(now.Sub(start)) * t.pause)
		if t.maxPause > 0 {
			p = min(p, t.maxPause)
		}
		if until := now.Add(p); until.After(t.paused) {
			t.paused = until
		}
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// throttle returns once no pause holds while reads are in flight (at once
// when no read is), or when ctx ends: the evaluator and the state feed,
// which do not take turns, run their next read or message outside the
// pauses.
func (t *catchUpTurns) throttle(ctx context.Context) {
	if t == nil {
		return
	}
	for {
		now := time.Now()
		busy, _ := t.reads.state(now)
		if !busy {
			return
		}
		t.mu.Lock()
		wait := t.paused.Sub(now)
		t.mu.Unlock()
		if wait <= 0 {
			return
		}
		timer := time.NewTimer(min(wait, turnPoll))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
}

// servePoolSettings are the session settings of serve's PostgreSQL pools:
// the requests' (the catalog API's reads, the write side's), and the one
// serve's catch-up (the history, the badges and the evaluator) works
// through. Their statements take no parallel workers, which on two cores
// take the cores a request's backend needs, and are not compiled (JIT),
// which costs a backend tens of milliseconds of CPU for a statement that
// then runs in a few. A request's own statements suffer most: the
// relations of a filtered list's 50 entities (decorate) were planned with
// two parallel workers at 300,000 entities, so each request started two
// backend processes and waited for them, 99-195 ms a list at load 20
// against 13-24 ms without them, for a statement that runs in 1 ms; the
// workers' CPU was counted to no client (the bench's "PostgreSQL for the
// api" missed it).
var servePoolSettings = map[string]string{
	"max_parallel_workers_per_gather": "0",
	"jit":                             "off",
}

// servePostgresURL returns the PostgreSQL URL or keyword/value string dsn
// with servePoolSettings as the session's runtime parameters (pgx passes the
// parameters it does not know to the server), keeping any the deployment
// set itself.
func servePostgresURL(dsn string) string {
	keys := make([]string, 0, len(servePoolSettings))
	for k := range servePoolSettings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn // pgx reports it
		}
		q := u.Query()
		for _, k := range keys {
			if !q.Has(k) {
				q.Set(k, servePoolSettings[k])
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, k := range keys {
		if !strings.Contains(dsn, k+"=") {
			dsn += " " + k + "=" + servePoolSettings[k]
		}
	}
	return dsn
}
