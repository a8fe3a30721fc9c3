package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/projector"
)

// gatedTarget is a read model whose Apply waits for its gate: for good once
// the test closes it, or for one send per Apply (a step). With only set, the
// gate holds back the Applies of those partitions alone; others apply at
// once.
type gatedTarget struct {
	mu   sync.Mutex
	pos  event.Positions
	gate chan struct{}
	only map[int32]bool
}

// newGatedTarget returns a gated read model; with partitions, only their
// Applies wait.
func newGatedTarget(partitions ...int32) *gatedTarget {
	g := &gatedTarget{pos: event.Positions{}, gate: make(chan struct{})}
	if len(partitions) > 0 {
		g.only = map[int32]bool{}
		for _, p := range partitions {
			g.only[p] = true
		}
	}
	return g
}

func (g *gatedTarget) Apply(ctx context.Context, evs []event.Envelope) error {
	if g.only == nil || g.only[evs[0].Partition] {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.mu.Lock()
	g.pos[evs[0].Partition] = evs[len(evs)-1].Position
	g.mu.Unlock()
	return nil
}

func (g *gatedTarget) Positions(context.Context) (event.Positions, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pos.Clone(), nil
}

// readLater reads partition of held on a goroutine of its own and sends the
// time the read went on, if it succeeded.
func readLater(ctx context.Context, held heldBackLog, partition int32) <-chan time.Time {
	read := make(chan time.Time, 1)
	go func() {
		if _, err := held.ReadPartition(ctx, partition, 0, 10); err == nil {
			read <- time.Now()
		}
	}()
	return read
}

// mustWait fails the test when the read goes on within d, while why holds.
func mustWait(t *testing.T, read <-chan time.Time, d time.Duration, why string) {
	t.Helper()
	select {
	case <-read:
		t.Fatalf("a read went on while %s", why)
	case <-time.After(d):
	}
}

// mustGo fails the test unless the read goes on, not before after, once why
// happened.
func mustGo(t *testing.T, read <-chan time.Time, after time.Time, why string) {
	t.Helper()
	select {
	case at := <-read:
		if at.Before(after) {
			t.Fatalf("the read went on before %s", why)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the read still waits after %s", why)
	}
}

func appendN(t *testing.T, log event.PartitionedLog, n int) {
	t.Helper()
	evs := make([]event.Envelope, n)
	for i := range evs {
		ev, err := event.New(event.TypeEntityRemoved, fmt.Sprintf("component:default/c%d", i), event.EntityRemoved{Ref: "component:default/c", UID: "u"}, event.Meta{Actor: "user:default/test"})
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = ev
	}
	if _, err := log.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// TestOtherFoldsWaitWhileTheCatalogIsFarBehind: a read of the held-back log
// waits while the catalog's projector is more than behind events from the
// head, goes on once the catalog catches up, goes on at once when the
// catalog is near the head, and goes on after maxWait when the catalog does
// not move.
func TestOtherFoldsWaitWhileTheCatalogIsFarBehind(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	log := event.SinglePartition(sl)
	target := newGatedTarget()
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	first := &catalogFirst{log: log, catalog: catalog, behind: 5, maxWait: time.Minute}
	held := heldBackLog{PartitionedLog: log, first: first}

	// Near the head: no wait.
	appendN(t, log, 5)
	start := time.Now()
	if _, err := held.ReadPartition(ctx, 0, 0, 10); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a read with the catalog 5 events behind waited %s", d)
	}

	// Far behind: the read waits until the catalog catches up (once the
	// heads read for the first read are older than headsEvery).
	appendN(t, log, 20)
	time.Sleep(headsEvery)
	read := readLater(ctx, held, 0)
	mustWait(t, read, 300*time.Millisecond, "the catalog was 25 events behind")
	opened := time.Now()
	close(target.gate)
	mustGo(t, read, opened, "the catalog caught up")

	// A catalog that does not move holds a read back for maxWait at most.
	stuck := newGatedTarget()
	stalled := projector.New(log, stuck, projector.Options{})
	go stalled.Run(ctx)
	short := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: stalled, behind: 5, maxWait: 400 * time.Millisecond}}
	start = time.Now()
	if _, err := short.ReadPartition(ctx, 0, 0, 10); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("a read went on after %s with the catalog stalled, want maxWait", d)
	}
}

// memLog is a log of partitions held in memory, for the cases of several
// partitions.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]event.Envelope
	grew  chan struct{}
}

func newMemLog(parts ...int32) *memLog {
	l := &memLog{parts: map[int32][]event.Envelope{}, grew: make(chan struct{})}
	for _, p := range parts {
		l.parts[p] = nil
	}
	return l
}

// add appends n events to partition p.
func (l *memLog) add(p int32, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		pos := int64(len(l.parts[p]) + 1)
		l.parts[p] = append(l.parts[p], event.Envelope{ID: fmt.Sprintf("%d-%d", p, pos), Partition: p, Position: pos})
	}
	close(l.grew)
	l.grew = make(chan struct{})
}

func (l *memLog) Append(context.Context, []event.Envelope) (int64, error) {
	return 0, fmt.Errorf("memLog: append with add")
}

func (l *memLog) Partitions(context.Context) ([]int32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int32
	for p := range l.parts {
		out = append(out, p)
	}
	return out, nil
}

func (l *memLog) ReadPartition(_ context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.parts[p][min(int(after), len(l.parts[p])):]
	return append([]event.Envelope(nil), evs[:min(limit, len(evs))]...), nil
}

func (l *memLog) Heads(context.Context) (event.Positions, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := event.Positions{}
	for p, evs := range l.parts {
		out[p] = int64(len(evs))
	}
	return out, nil
}

func (l *memLog) WaitPartition(ctx context.Context, p int32, after int64) (int64, error) {
	for {
		l.mu.Lock()
		head, grew := int64(len(l.parts[p])), l.grew
		l.mu.Unlock()
		if head > after {
			return head, nil
		}
		select {
		case <-ctx.Done():
			return head, ctx.Err()
		case <-grew:
		}
	}
}

func (l *memLog) Close() error { return nil }

// TestOtherFoldsWaitOnTheCatalogOfTheirPartition: with several partitions
// (serve's log), a read of a partition waits on the catalog's progress in
// that partition alone: a partition the catalog has folded is read at once
// while another is far behind, and the one behind is read once the catalog
// catches up there.
func TestOtherFoldsWaitOnTheCatalogOfTheirPartition(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0, 1)
	target := newGatedTarget(0)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	// With a yield as long as the test: a read of a partition the catalog
	// folded yields to nothing the catalog has left in another one.
	held := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute,
		writes: newForeground(), yieldWait: time.Minute}}
	log.add(0, 20)
	log.add(1, 5)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := catalog.WaitFor(wctx, event.Positions{1: 5}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if evs, err := held.ReadPartition(ctx, 1, 0, 10); err != nil || len(evs) != 5 {
		t.Fatalf("read of partition 1: %d events, %v", len(evs), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a read of a partition the catalog folded waited %s on another partition", d)
	}

	read := readLater(ctx, held, 0)
	mustWait(t, read, 300*time.Millisecond, "the catalog was 20 events behind in partition 0")
	opened := time.Now()
	close(target.gate)
	mustGo(t, read, opened, "the catalog caught up in partition 0")
}

// TestStalledCountsFromTheCatalogsLastFold: with stalled (serve), a read
// stays held back past maxWait while the catalog keeps folding its
// partition, and goes on maxWait after the catalog stops folding, though it
// has not caught up.
func TestStalledCountsFromTheCatalogsLastFold(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0)
	target := newGatedTarget()
	catalog := projector.New(log, target, projector.Options{BatchSize: 1})
	go catalog.Run(ctx)
	const maxWait = 400 * time.Millisecond
	held := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: maxWait, stalled: true}}
	log.add(0, 20)

	read := readLater(ctx, held, 0)
	// The catalog folds an event every maxWait/4, for 4 maxWaits.
	for range 16 {
		select {
		case target.gate <- struct{}{}:
		case <-time.After(10 * time.Second):
			t.Fatal("the catalog does not fold")
		}
		select {
		case <-read:
			t.Fatal("a read went on while the catalog was folding its partition")
		case <-time.After(maxWait / 4):
		}
	}
	stopped := time.Now()
	select {
	case at := <-read:
		if d := at.Sub(stopped); d < maxWait/2 {
			t.Fatalf("the read went on %s after the catalog's last fold, want about maxWait (%s)", d, maxWait)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the read still waits on a stalled catalog")
	}
}

// TestReadsWaitWhileTheCatalogsLoad: while the ingester loads its catalogs
// at start (serve), a read waits even on a catalog that has caught up, and
// goes on once the load ends.
func TestReadsWaitWhileTheCatalogsLoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0)
	target := newGatedTarget(0)
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{})
	go catalog.Run(ctx)
	loading := make(chan struct{})
	held := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute, stalled: true, loading: loading}}
	log.add(0, 5)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := catalog.WaitFor(wctx, event.Positions{0: 5}); err != nil {
		t.Fatal(err)
	}
	read := readLater(ctx, held, 0)
	mustWait(t, read, 500*time.Millisecond, "the catalogs were loading")
	loaded := time.Now()
	close(loading)
	mustGo(t, read, loaded, "the load ended")
}

// TestOtherFoldsYieldToACatalogWrite: once the backlog is folded, a read of
// the held-back log waits while a catalog write is in flight or the
// catalog's projector has events left to fold, goes on when the write ends
// or the catalog has folded them, and after yieldWait at most.
func TestOtherFoldsYieldToACatalogWrite(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	log := event.SinglePartition(sl)
	target := newGatedTarget()
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	writes := newForeground()
	held := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 5, maxWait: time.Minute, writes: writes, yieldWait: time.Minute}}
	// Nothing in flight, nothing to fold: no wait.
	if _, err := held.ReadPartition(ctx, 0, 0, 10); err != nil {
		t.Fatal(err)
	}

	// Events the catalog has not folded yet (fewer than behind): the read
	// waits for their fold (once the heads the first read saw are older
	// than headsEvery).
	appendN(t, log, 2)
	time.Sleep(headsEvery)
	read := readLater(ctx, held, 0)
	mustWait(t, read, 300*time.Millisecond, "the catalog had 2 events left to fold")
	opened := time.Now()
	close(target.gate)
	mustGo(t, read, opened, "the catalog folded them")

	// A write in flight: the read waits for its end.
	end := writes.begin()
	read = readLater(ctx, held, 0)
	mustWait(t, read, 300*time.Millisecond, "a catalog write was in flight")
	ended := time.Now()
	end()
	end() // a second call changes nothing
	mustGo(t, read, ended, "the write ended")
	select {
	case <-writes.idle():
	default:
		t.Fatal("no write in flight, yet the foreground is not idle")
	}

	// A write that does not end holds a read back for yieldWait at most.
	defer writes.begin()()
	short := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 5, maxWait: time.Minute, writes: writes, yieldWait: 400 * time.Millisecond}}
	start := time.Now()
	if _, err := short.ReadPartition(ctx, 0, 0, 10); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("a read went on after %s with a write in flight, want yieldWait", d)
	}
}

// TestCatalogRequestsAreMarked: a request of the catalog API, read or
// write, is in flight while it is served; a read as of an instant (which
// waits for the history) and other areas' requests are not.
func TestCatalogRequestsAreMarked(t *testing.T) {
	t.Parallel()
	writes := newForeground()
	var inFlight bool
	h := markCatalogRequests(writes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-writes.idle():
			inFlight = false
		default:
			inFlight = true
		}
	}))
	for _, c := range []struct {
		name, method, path string
		want               bool
	}{
		{"refresh", http.MethodPost, "/api/catalog/refresh", true},
		{"register", http.MethodPost, "/api/catalog/locations", true},
		{"delete", http.MethodDelete, "/api/catalog/entities/by-uid/u", true},
		{"read", http.MethodGet, "/api/catalog/entities", true},
		{"query", http.MethodPost, "/api/catalog/entities/by-query", true},
		{"as of an instant", http.MethodGet, "/api/catalog/entities?asOf=5", false},
		{"facets as of an instant", http.MethodGet, "/api/catalog/entity-facets?facet=kind&asOf=2026-12-01", false},
		{"facts", http.MethodPost, "/api/facts", false},
		{"policy results", http.MethodGet, "/api/policies/p/results", false},
		{"history", http.MethodGet, "/api/audit/entities/component:default/x/history", false},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
		if inFlight != c.want {
			t.Errorf("%s: %s %s marked as in flight: %v, want %v", c.name, c.method, c.path, inFlight, c.want)
		}
		select {
		case <-writes.idle():
		default:
			t.Errorf("%s: still in flight after the request", c.name)
		}
	}
}

// TestCatalogWritesAreMarked: serve marks the catalog API's writes alone;
// its reads, also those sent as POST, are not.
func TestCatalogWritesAreMarked(t *testing.T) {
	t.Parallel()
	writes := newForeground()
	var inFlight bool
	h := markCatalogWrites(writes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-writes.idle():
			inFlight = false
		default:
			inFlight = true
		}
	}))
	for _, c := range []struct {
		name, method, path string
		want               bool
	}{
		{"refresh", http.MethodPost, "/api/catalog/refresh", true},
		{"register", http.MethodPost, "/api/catalog/locations", true},
		{"update a location", http.MethodPut, "/api/catalog/locations/l", true},
		{"delete a location", http.MethodDelete, "/api/catalog/locations/l", true},
		{"delete an entity", http.MethodDelete, "/api/catalog/entities/by-uid/u", true},
		{"read", http.MethodGet, "/api/catalog/entities", false},
		{"by name", http.MethodGet, "/api/catalog/entities/by-name/component/default/x", false},
		{"query", http.MethodPost, "/api/catalog/entities/by-query", false},
		{"by refs", http.MethodPost, "/api/catalog/entities/by-refs", false},
		{"locations by query", http.MethodPost, "/api/catalog/locations/by-query", false},
		{"validate", http.MethodPost, "/api/catalog/validate-entity", false},
		{"analyze", http.MethodPost, "/api/catalog/analyze-location", false},
		{"facts", http.MethodPost, "/api/facts", false},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
		if inFlight != c.want {
			t.Errorf("%s: %s %s marked as in flight: %v, want %v", c.name, c.method, c.path, inFlight, c.want)
		}
		select {
		case <-writes.idle():
		default:
			t.Errorf("%s: still in flight after the request", c.name)
		}
	}
}
