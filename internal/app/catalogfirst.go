package app

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/projections/projector"
)

// catalogFirst holds the other readers of a process's log (the history's
// and the badges' projectors, the badge evaluator) back while the catalog's
// projector of the same process is far behind the log's head, as during the
// first ingestion of a large catalog. On two cores every fold competes for
// the same CPU: the catalog is what a write waits for and what "ingested and
// queryable" means, so it goes first, and the others fold the backlog once
// it is readable. A read of a partition waits on the catalog's progress in
// that partition alone, which the process's catalog projector folds too (the
// projectors of a process share its partitions), so projector processes that
// split a log's partitions do not wait on each other. Readers are held back
// at most maxWait per read (with stalled, at most maxWait in which the
// catalog folded nothing of the partition), so a catalog that never catches
// up (a store that keeps failing) does not stop them.
//
// Once the backlog is folded they still yield, between two of their
// batches, to the catalog's own work: while a catalog request is in flight
// (writes, marked by the file watcher's refreshes and by the catalog API's
// requests, reads and writes) or the catalog's projector has events left to
// fold, a read waits at most yieldWait. An edit's refresh, its fold, the
// readers that wait for it and the catalog's queries then do not share the
// two cores with a catch-up of the history and the badges, which otherwise
// follows right after a large ingestion; under a steady load of requests the
// catch-up still folds a batch every yieldWait.
type catalogFirst struct {
	log     event.PartitionedLog
	catalog *projector.Projector
	// behind is how many events of a partition the catalog may be behind
	// before the others wait; maxWait bounds one wait.
	behind  int64
	maxWait time.Duration
	// stalled makes maxWait count from the catalog's last progress in the
	// partition instead of from the start of the wait: an ingestion longer
	// than maxWait is folded by the catalog alone for as long as it lasts.
	stalled bool
	// loading, when not nil, is closed once the process's ingester has
	// loaded its configured catalogs at start: until then the others wait
	// even on a catalog that caught up, for the ingestion walk feeds it a
	// few events per partition at a time and it catches up between them.
	loading <-chan struct{}
	// writes counts the catalog requests in flight; nil counts none.
	// yieldWait bounds a read's wait for them and for the catalog's last
	// events (zero: no wait).
	writes    *foreground
	yieldWait time.Duration
	// turns, when not nil, admits the held-back batches across the
	// history's and the badges' projectors of the process (Enter): once a
	// large ingestion is folded, the history's and the badges' projectors
	// of every partition would otherwise catch up all at once, and their
	// transactions, each open while its batch is decoded and folded, would
	// take the PostgreSQL connections and the cores the catalog's requests
	// and an edit's fold need. It lets fewer and smaller batches in while
	// the catalog's reads are in flight, and pauses between them
	// (catchUpTurns).
	turns *catchUpTurns

	// mu guards the heads last read and when: every held-back reader of
	// every partition shares one read of the heads per headsEvery, where a
	// read each would ask the log for them hundreds of times a second.
	mu      sync.Mutex
	heads   event.Positions
	headsAt time.Time
}

// headsEvery is how long the heads catalogFirst read stay its answer.
const headsEvery = 100 * time.Millisecond

// The defaults of dev's catalogFirst.
const (
	// devCatalogFirstBehind is ten of dev's fold batches: a write of a few
	// locations never reaches it, a catalog of thousands of entities does.
	devCatalogFirstBehind = 10 * devFoldBatch
	// devCatalogFirstMaxWait bounds one wait of a held-back reader.
	devCatalogFirstMaxWait = 20 * time.Second
	// serveCatalogFirstBehind is none: serve's catalog folds each of its
	// partitions in parallel batches as large as the backlog allows, so
	// during a large ingestion it trails the moving head of a partition by
	// a few hundred events at most, and any threshold above nothing lets
	// the others fold alongside it. Once the writes stop, the catalog
	// reaches the head within one fold, and the others go on; a single
	// write waits for the catalog's fold of that write, milliseconds.
	serveCatalogFirstBehind = 0
	// serveCatalogFirstMaxWait bounds how long a held-back reader in serve
	// waits on a catalog that folds nothing of its partition (stalled).
	serveCatalogFirstMaxWait = 20 * time.Second
	// serveHeldBackBatch is the history's and the badges' batch in serve.
	// Once a large ingestion is folded they catch up on every partition,
	// serveCatchUpBatches batches at a time, so what is read and decoded at
	// once is bounded by those two. (Before that bound, at the projector's
	// default of 2,000 events, 12 partitions held 48,000 events at a time
	// and serve's RSS went from 210 MB at the end of a 100,000-entity
	// ingestion to 505 MB in the catch-up after it.) A batch is not
	// interrupted: an edit that comes while one runs waits for the cores
	// it holds, so it stays a fraction of a second's work.
	serveHeldBackBatch = 1000
	// serveCatchUpBatches is how many held-back batches (catalogFirst's
	// batches) run at once in a serve process: enough to keep both cores
	// busy with the catch-up while one batch's transaction waits on the
	// other side (with two, at 100,000 entities on a quiet machine, the
	// history and the badges caught up in 25 s instead of 13 s), few enough
	// that the catalog's requests and an edit's fold compete with four, not
	// with every partition's history and badges at once (24).
	serveCatchUpBatches = 4
	// serveCatchUpConns is the size of the pool the held-back readers write
	// through in serve: a connection for each batch let in at once, one for
	// the evaluator and one for the history's background work.
	serveCatchUpConns = serveCatchUpBatches + 2
	// serveEvaluatorBatch is the evaluator's batch in serve, as dev's
	// (devEvaluatorBatch).
	serveEvaluatorBatch = devEvaluatorBatch
	// devCatalogFirstYield bounds one wait of a held-back reader for a
	// catalog request in flight (in dev; in serve, for a write or a watched
	// file's refresh): an edit's refresh and fold take tens of
	// milliseconds, a query a few, so a reader that keeps meeting requests
	// (a soak's steady stream) still reads a batch at least this often.
	devCatalogFirstYield = 300 * time.Millisecond
)

// wait returns once the catalog's projector is within behind events of the
// head of partition and, with yieldWait, no catalog request is in flight nor
// event left to fold (for at most yieldWait), after maxWait, or when ctx
// ends.
func (g *catalogFirst) wait(ctx context.Context, partition int32) {
	deadline := time.Now().Add(g.maxWait)
	folded := g.catalog.Applied()[partition]
	for ctx.Err() == nil {
		if now := g.catalog.Applied()[partition]; g.stalled && now > folded {
			folded, deadline = now, time.Now().Add(g.maxWait)
		}
		heads, err := g.readHeads(ctx)
		if err != nil {
			break
		}
		head := event.Positions{partition: heads[partition]}
		near := g.catalog.Applied().Behind(head) <= g.behind
		loading := g.isLoading()
		if near && !loading {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		// Wake when the catalog reaches the head seen, or look again soon:
		// the head moves while a large location is read.
		wctx, cancel := context.WithTimeout(ctx, min(left, 250*time.Millisecond))
		if near {
			select { // caught up, but the load goes on
			case <-wctx.Done():
			case <-g.loading:
			}
		} else {
			_ = g.catalog.WaitFor(wctx, head)
		}
		cancel()
	}
	g.yield(ctx, partition)
}

// yield waits, at most yieldWait, while a catalog request is in flight or
// the catalog's projector has not folded the head of partition (the one a
// held-back reader reads: in serve, a process's catalog folds only the
// partitions assigned to it). It reports whether it waited.
func (g *catalogFirst) yield(ctx context.Context, partition int32) (waited bool) {
	if g.yieldWait <= 0 {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, g.yieldWait)
	defer cancel()
	for ; wctx.Err() == nil; waited = true {
		idle := g.writes.idle()
		heads, err := g.readHeads(wctx)
		if err != nil {
			return waited
		}
		head := event.Positions{partition: heads[partition]}
		folded := g.catalog.Applied().Covers(head)
		select {
		case <-idle:
			if folded {
				return waited
			}
		default:
		}
		if !folded {
			// Wake when the catalog folds the head, or look again once the
			// heads read are stale.
			fctx, stop := context.WithTimeout(wctx, headsEvery)
			_ = g.catalog.WaitFor(fctx, head)
			stop()
			continue
		}
		select {
		case <-idle:
		case <-wctx.Done():
		}
	}
	return waited
}

// Enter returns once a held-back batch of partition may run: after wait,
// once turns lets it in, and after a yield to the catalog's work that came
// while it queued for its turn. leave ends the batch. It is the
// projector.Gate of the held-back projectors.
func (g *catalogFirst) Enter(ctx context.Context, partition int32) (leave func(), err error) {
	_, leave, err = g.EnterSized(ctx, partition, 0)
	return leave, err
}

// EnterSized is Enter that also answers the events the batch may read: size,
// or fewer while the catalog's reads are in flight (catchUpTurns). It makes
// catalogFirst a projector.SizingGate.
func (g *catalogFirst) EnterSized(ctx context.Context, partition int32, size int) (limit int, leave func(), err error) {
	g.wait(ctx, partition)
	if g.turns == nil {
		return size, func() {}, ctx.Err()
	}
	b, err := g.turns.take(ctx, size)
	if err != nil {
		return 0, nil, err
	}
	// The turn may come long after the wait: an edit that came meanwhile
	// still goes first. A batch that yielded to it and was let in while no
	// read was in flight takes its turn again after it if reads are in
	// flight now (catchUpTurns.retake), so how many batches run and how
	// large is decided by the reads when they run. Batches let in whole
	// while no read was in flight (between two requests of a client)
	// otherwise all started whole when the edit's write ended, beside the
	// reads that follow it and the next edit.
	if g.yield(ctx, partition) {
		if b, err = g.turns.retake(ctx, b, size); err != nil {
			return 0, nil, err
		}
	}
	return b.limit, b.leave, nil
}

// gate returns g as the projectors' gate, nil (no gate) for a nil g.
func (g *catalogFirst) gate() projector.Gate {
	var _ projector.SizingGate = g
	if g == nil {
		return nil
	}
	return g
}

// isLoading reports whether the ingester still loads its catalogs.
func (g *catalogFirst) isLoading() bool {
	if g.loading == nil {
		return false
	}
	select {
	case <-g.loading:
		return false
	default:
		return true
	}
}

// readHeads returns the log's heads as read at most headsEvery ago.
func (g *catalogFirst) readHeads(ctx context.Context) (event.Positions, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.heads != nil && time.Since(g.headsAt) < headsEvery {
		return g.heads, nil
	}
	heads, err := g.log.Heads(ctx)
	if err != nil {
		return nil, err
	}
	g.heads, g.headsAt = heads, time.Now()
	return heads, nil
}

// hold returns handle holding each message back as a read of its
// partition is (wait), for a handler that reads the catalog for every
// event, as the state feed does: its reads of each entity and the entities
// it relates to cost the catalog's ingestion as much CPU as a fold. A
// message does not queue for a turn among the held-back batches (Enter):
// one at a time, a turn for each would let the state feed fold a message
// per batch of the others; it waits out the turns' pauses instead
// (catchUpTurns.throttle). A nil g holds nothing back.
func (g *catalogFirst) hold(handle message.NoPublishHandlerFunc) message.NoPublishHandlerFunc {
	if g == nil {
		return handle
	}
	return func(msg *message.Message) error {
		if part, err := strconv.ParseInt(msg.Metadata.Get(messaging.MetaPartition), 10, 32); err == nil {
			g.wait(msg.Context(), int32(part))
		}
		g.turns.throttle(msg.Context())
		return handle(msg)
	}
}

// heldBackLog is a log whose reads wait for catalogFirst first; everything
// else goes to the log as is.
type heldBackLog struct {
	event.PartitionedLog
	first *catalogFirst
	// short, when set, lets a read of a short backlog go at once (shortBacklog).
	short shortBacklog
}

// ReadPartition waits while the catalog is far behind, then reads. It is
// the evaluator's log: one reader, which reads every partition in turn for
// one batch, so it does not queue for a turn among the held-back batches
// (Enter) for each; it waits out the turns' pauses instead
// (catchUpTurns.throttle).
func (l heldBackLog) ReadPartition(ctx context.Context, partition int32, after int64, limit int) ([]event.Envelope, error) {
	if l.short.short(ctx, partition, after) {
		return l.PartitionedLog.ReadPartition(ctx, partition, after, min(limit, int(l.short.most)))
	}
	l.first.wait(ctx, partition)
	l.first.turns.throttle(ctx)
	return l.PartitionedLog.ReadPartition(ctx, partition, after, limit)
}

// foreground counts the catalog requests in flight (and the file watcher's
// refreshes), which the held-back readers yield to. It is safe for
// concurrent use; a nil foreground counts nothing and is always idle.
type foreground struct {
	mu sync.Mutex
	n  int
	// quiet is closed while n is zero.
	quiet chan struct{}
}

// newForeground returns a foreground with no write in flight.
func newForeground() *foreground {
	return &foreground{quiet: closedChan()}
}

// closedQuiet is the idle channel of a nil foreground.
var closedQuiet = closedChan()

// begin marks a request in flight until the returned end is called (once).
func (f *foreground) begin() (end func()) {
	if f == nil {
		return func() {}
	}
	f.mu.Lock()
	if f.n == 0 {
		f.quiet = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.n--
			if f.n == 0 {
				close(f.quiet)
			}
			f.mu.Unlock()
		})
	}
}

// idle returns a channel that is closed once no request is in flight (at
// once when none is).
func (f *foreground) idle() <-chan struct{} {
	if f == nil {
		return closedQuiet
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.quiet
}

// markCatalogRequests marks every request of the catalog API (under
// /api/catalog/: reads, and writes such as a refresh, a registration or a
// deletion) as a catalog request in flight of f while it is served. Only the
// catalog's requests of the present are marked: they wait for the catalog's
// projector alone, never for a held-back reader, and none of them is a
// stream. A read of the catalog as of an instant (the asOf parameter) waits
// for the history to reach the log's head: marking it would hold back the
// very fold it waits for, so it is not marked.
func markCatalogRequests(f *foreground, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/catalog/") && !r.URL.Query().Has("asOf") {
			defer f.begin()()
		}
		next.ServeHTTP(w, r)
	})
}

// markCatalogWrites marks the catalog API's writes alone (a refresh, a
// registration, an update or a deletion of a location, a deletion of an
// entity) as catalog requests in flight of f while they are served: serve's
// held-back readers yield to them as to a watched file's refresh, but not
// to reads, for a steady stream of reads would then let the history and the
// badges fold a batch only every yieldWait, and their catch-up after a
// large ingestion would last as long as the reads do. The reads share the
// cores with the few batches catalogFirst lets run at once instead.
func markCatalogWrites(f *foreground, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isCatalogWrite(r) {
			defer f.begin()()
		}
		next.ServeHTTP(w, r)
	})
}

// isCatalogWrite reports whether r is a write of the catalog API.
func isCatalogWrite(r *http.Request) bool {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/catalog/") {
		return false
	}
	switch r.Method {
	case http.MethodDelete:
		return true
	case http.MethodPost:
		return p == "/api/catalog/refresh" || p == "/api/catalog/locations"
	case http.MethodPut:
		return strings.HasPrefix(p, "/api/catalog/locations/")
	}
	return false
}
