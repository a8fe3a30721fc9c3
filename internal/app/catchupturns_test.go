package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/projector"
)

// turnIn is a batch let in by catchUpTurns: its limit and leave.
type turnIn struct {
	limit int
	leave func()
}

// enterTurnLater enters t on a goroutine of its own and sends the batch once
// it is in.
func enterTurnLater(ctx context.Context, t *catchUpTurns, size int) <-chan turnIn {
	in := make(chan turnIn, 1)
	go func() {
		if limit, leave, err := t.enter(ctx, size); err == nil {
			in <- turnIn{limit, leave}
		}
	}()
	return in
}

// mustEnter fails the test unless a batch goes in within a generous bound.
func mustEnter(t *testing.T, in <-chan turnIn, why string) turnIn {
	t.Helper()
	select {
	case b := <-in:
		return b
	case <-time.After(30 * time.Second):
		t.Fatalf("a batch still waits after %s", why)
	}
	return turnIn{}
}

// mustNotEnter fails the test when a batch goes in within d, while why holds.
func mustNotEnter(t *testing.T, in <-chan turnIn, d time.Duration, why string) {
	t.Helper()
	select {
	case <-in:
		t.Fatalf("a batch went in while %s", why)
	case <-time.After(d):
	}
}

// TestCatchUpBatchesGiveWayToReads: with no read in flight, most batches of
// the full size run at once; while a read is in flight, one at a time, of
// busyBatch events; once the reads end, most again.
func TestCatchUpBatchesGiveWayToReads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := newReadLoad()
	turns := &catchUpTurns{most: 3, reads: reads, busyMost: 1, busyBatch: 200}

	var idle []turnIn
	for range 3 {
		b := mustEnter(t, enterTurnLater(ctx, turns, 1000), "no read in flight and fewer than most running")
		if b.limit != 1000 {
			t.Fatalf("a batch with no read in flight may read %d events, want the full 1000", b.limit)
		}
		idle = append(idle, b)
	}
	fourth := enterTurnLater(ctx, turns, 1000)
	mustNotEnter(t, fourth, 300*time.Millisecond, "most batches ran")
	idle[0].leave()
	idle[0].leave() // a second leave changes nothing
	idle = append(idle[1:], mustEnter(t, fourth, "one of most batches left"))

	// A read begins while three batches run: none goes in until one runs
	// alone, and then smaller ones.
	end := reads.begin()
	next := enterTurnLater(ctx, turns, 1000)
	idle[0].leave()
	idle[1].leave()
	mustNotEnter(t, next, 300*time.Millisecond, "a read was in flight and a batch still ran")
	idle[2].leave()
	busy := mustEnter(t, next, "the batches that went in before the read left")
	if busy.limit != 200 {
		t.Fatalf("a batch while a read is in flight may read %d events, want busyBatch (200)", busy.limit)
	}
	second := enterTurnLater(ctx, turns, 1000)
	mustNotEnter(t, second, 300*time.Millisecond, "a read was in flight and a batch ran")
	busy.leave()
	mustEnter(t, second, "the one batch let in while a read is in flight left").leave()

	// The read ends (and readLinger passes): most at once again, each of
	// the full size.
	end()
	time.Sleep(readLinger)
	var again []turnIn
	for range 3 {
		b := mustEnter(t, enterTurnLater(ctx, turns, 1000), "the reads ended")
		if b.limit != 1000 {
			t.Fatalf("a batch after the reads ended may read %d events, want the full 1000", b.limit)
		}
		again = append(again, b)
	}
	for _, b := range again {
		b.leave()
	}
}

// TestCatchUpPausesAfterABatchThatOverlappedReads: after a batch that ran
// while a read was in flight, the next waits for pause times that batch's
// duration while reads go on (the evaluator's and the state feed's throttle
// too), and goes on once they end; a batch that met no read leaves no pause.
func TestCatchUpPausesAfterABatchThatOverlappedReads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := newReadLoad()
	turns := &catchUpTurns{most: 4, reads: reads, busyMost: 1, busyBatch: 200, pause: 100, maxPause: time.Minute}

	// No read: no pause after a batch.
	b := mustEnter(t, enterTurnLater(ctx, turns, 1000), "no read in flight")
	time.Sleep(50 * time.Millisecond)
	b.leave()
	turns.mu.Lock()
	paused := turns.paused
	turns.mu.Unlock()
	if !paused.IsZero() {
		t.Fatalf("a batch that met no read paused the next until %s", paused)
	}
	end := reads.begin()
	b = mustEnter(t, enterTurnLater(ctx, turns, 1000), "a batch that met no read left")

	// It ran 50 ms with a read in flight: the next waits about 5 s.
	time.Sleep(50 * time.Millisecond)
	b.leave()
	next := enterTurnLater(ctx, turns, 1000)
	mustNotEnter(t, next, 300*time.Millisecond, "the pause after a batch that overlapped a read held")
	throttled := make(chan time.Time, 1)
	go func() { turns.throttle(ctx); throttled <- time.Now() }()
	mustWait(t, throttled, 100*time.Millisecond, "the pause held")

	ended := time.Now()
	end()
	mustEnter(t, next, "the read ended").leave()
	mustGo(t, throttled, ended, "the read ended")
}

// TestCatchUpGoesOnUnderASteadyReadLoad: the history's and the badges'
// projectors, gated by catalogFirst with serve's kind of turns, catch up
// every partition while reads are always in flight (a steady load that
// never pauses), one small batch at a time.
func TestCatchUpGoesOnUnderASteadyReadLoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newMemLog(0, 1, 2, 3)
	for p := range int32(4) {
		log.add(p, 60)
	}
	target := newGatedTarget()
	close(target.gate)
	catalog := projector.New(log, target, projector.Options{BatchSize: 1000})
	go catalog.Run(ctx)
	reads := newReadLoad()
	defer reads.begin()() // in flight from the start
	// Reads one after another for as long as the test runs.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		for ctx.Err() == nil {
			end := reads.begin()
			time.Sleep(time.Millisecond)
			end()
		}
	})
	turns := &catchUpTurns{most: 4, reads: reads, busyMost: 1, busyBatch: 5, pause: 1, maxPause: 50 * time.Millisecond}
	first := &catalogFirst{log: log, catalog: catalog, behind: 0, maxWait: time.Minute, turns: turns}
	var running, most, biggest atomic.Int32
	var projs []*projector.Projector
	for range 2 { // the history and the badges
		projs = append(projs, projector.New(log, &sizingTarget{countingTarget: countingTarget{running: &running, most: &most}, biggest: &biggest},
			projector.Options{BatchSize: 20, Gate: first.gate()}))
	}
	for _, p := range projs {
		go p.Run(ctx)
	}
	want := event.Positions{0: 60, 1: 60, 2: 60, 3: 60}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	for _, p := range projs {
		if err := p.WaitFor(wctx, want); err != nil {
			t.Fatalf("under a steady load of reads: %v", err)
		}
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d batches applied at once while reads were in flight, want 1", m)
	}
	if b := biggest.Load(); b > 5 {
		t.Fatalf("a batch of %d events while reads were in flight, want at most busyBatch (5)", b)
	}
}

// sizingTarget is a countingTarget that also records the largest batch.
type sizingTarget struct {
	countingTarget
	biggest *atomic.Int32
}

func (s *sizingTarget) Apply(ctx context.Context, evs []event.Envelope) error {
	n := int32(len(evs))
	for b := s.biggest.Load(); n > b && !s.biggest.CompareAndSwap(b, n); b = s.biggest.Load() {
	}
	return s.countingTarget.Apply(ctx, evs)
}

// TestCatalogReadsAreCounted: serve counts the catalog API's reads, also
// those sent as POST, while they are served (and readLinger after); not its
// writes, a read as of an instant, or other areas' requests.
func TestCatalogReadsAreCounted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, method, path string
		want               bool
	}{
		{"list", http.MethodGet, "/api/catalog/entities?filter=kind=component", true},
		{"by name", http.MethodGet, "/api/catalog/entities/by-name/component/default/x", true},
		{"query", http.MethodPost, "/api/catalog/entities/by-query", true},
		{"facets", http.MethodGet, "/api/catalog/entity-facets?facet=kind", true},
		{"refresh", http.MethodPost, "/api/catalog/refresh", false},
		{"register", http.MethodPost, "/api/catalog/locations", false},
		{"delete an entity", http.MethodDelete, "/api/catalog/entities/by-uid/u", false},
		{"as of an instant", http.MethodGet, "/api/catalog/entities?asOf=5", false},
		{"facts", http.MethodPost, "/api/facts", false},
		{"history", http.MethodGet, "/api/audit/entities/component:default/x/history", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			reads := newReadLoad()
			var during bool
			h := markCatalogReads(reads, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				during, _ = reads.state(time.Now())
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, strings.NewReader("{}")))
			if during != c.want {
				t.Fatalf("%s %s counted as a read in flight: %v, want %v", c.method, c.path, during, c.want)
			}
			if busy, _ := reads.state(time.Now().Add(readLinger)); busy {
				t.Fatal("still in flight readLinger after the request")
			}
		})
	}
}

// TestCatchUpPoolSettings: the catch-up pool's URL carries its session
// settings in both of PostgreSQL's connection string forms, and keeps a
// setting the deployment gave.
func TestCatchUpPoolSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, dsn string
		want      []string
	}{
		{"URL", "postgres://u:p@db:5432/backlot?sslmode=disable",
			[]string{"sslmode=disable", "max_parallel_workers_per_gather=0", "jit=off", "postgres://u:p@db:5432/backlot?"}},
		{"URL with a setting of its own", "postgresql://db/backlot?jit=on",
			[]string{"jit=on", "max_parallel_workers_per_gather=0"}},
		{"keyword/value", "host=db dbname=backlot",
			[]string{"host=db dbname=backlot ", "max_parallel_workers_per_gather=0", "jit=off"}},
	} {
		got := servePostgresURL(c.dsn)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q has no %q", c.name, got, w)
			}
		}
		if c.name == "URL with a setting of its own" && strings.Contains(got, "jit=off") {
			t.Errorf("%s: %q overrides the deployment's jit", c.name, got)
		}
	}
}

// TestCatchUpPoolSessionsTakeTheSettings: a connection to the catch-up
// pool's URL runs with servePoolSettings.
func TestCatchUpPoolSessionsTakeTheSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, servePostgresURL(pgtest.URL(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for k, want := range servePoolSettings {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", k).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q in a session of the catch-up pool, want %q", k, got, want)
		}
	}
}
