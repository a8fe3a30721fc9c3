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

// gatedTarget is a read model whose Apply waits until the test opens it.
type gatedTarget struct {
	mu   sync.Mutex
	pos  int64
	open chan struct{}
}

func (g *gatedTarget) Apply(ctx context.Context, evs []event.Envelope) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.pos = evs[len(evs)-1].Position
	g.mu.Unlock()
	return nil
}

func (g *gatedTarget) Positions(context.Context) (event.Positions, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return event.Positions{0: g.pos}, nil
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
	target := &gatedTarget{open: make(chan struct{})}
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

	// Far behind: the read waits until the catalog catches up.
	appendN(t, log, 20)
	read := make(chan time.Time, 1)
	go func() {
		if _, err := held.ReadPartition(ctx, 0, 0, 10); err == nil {
			read <- time.Now()
		}
	}()
	select {
	case <-read:
		t.Fatal("a read went on while the catalog was 25 events behind")
	case <-time.After(300 * time.Millisecond):
	}
	opened := time.Now()
	close(target.open)
	select {
	case at := <-read:
		if at.Before(opened) {
			t.Fatal("the read went on before the catalog caught up")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the read still waits after the catalog caught up")
	}

	// A catalog that does not move holds a read back for maxWait at most.
	stuck := &gatedTarget{open: make(chan struct{})}
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
	target := &gatedTarget{open: make(chan struct{})}
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	writes := newForeground()
	held := heldBackLog{PartitionedLog: log, first: &catalogFirst{log: log, catalog: catalog, behind: 5, maxWait: time.Minute, writes: writes, yieldWait: time.Minute}}
	readAt := func() <-chan time.Time {
		read := make(chan time.Time, 1)
		go func() {
			if _, err := held.ReadPartition(ctx, 0, 0, 10); err == nil {
				read <- time.Now()
			}
		}()
		return read
	}
	mustWait := func(read <-chan time.Time, why string) {
		t.Helper()
		select {
		case <-read:
			t.Fatalf("a read went on while %s", why)
		case <-time.After(300 * time.Millisecond):
		}
	}
	mustGo := func(read <-chan time.Time, after time.Time, why string) {
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

	// Nothing in flight, nothing to fold: no wait.
	if _, err := held.ReadPartition(ctx, 0, 0, 10); err != nil {
		t.Fatal(err)
	}

	// Events the catalog has not folded yet (fewer than behind): the read
	// waits for their fold.
	appendN(t, log, 2)
	read := readAt()
	mustWait(read, "the catalog had 2 events left to fold")
	opened := time.Now()
	close(target.open)
	mustGo(read, opened, "the catalog folded them")

	// A write in flight: the read waits for its end.
	end := writes.begin()
	read = readAt()
	mustWait(read, "a catalog write was in flight")
	ended := time.Now()
	end()
	end() // a second call changes nothing
	mustGo(read, ended, "the write ended")
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
