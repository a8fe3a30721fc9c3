package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// waitState polls r until its state is busy, or fails the test after d.
func waitState(t *testing.T, r *readLoad, busy bool, d time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if got, _ := r.state(time.Now()); got == busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reads in flight %v after %s, want %v: %s", !busy, d, busy, why)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestAProjectorHearsTheReadsOfAnotherProcess: an api's reads reach a
// projector that shares only the database with it (real PostgreSQL,
// LISTEN/NOTIFY): while a read is in flight in the api, the projector's
// catch-up lets in one batch of busyBatch events at a time; once it ended,
// most of the full size again. An idle api notifies nothing, and a busy one
// at most every readBeat.
func TestAProjectorHearsTheReadsOfAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	api, projector := newReadLoad(), newReadLoad()
	// A beat counts for a second here, so that a beat late on a loaded
	// machine (the suite runs beside others) does not end the api's read
	// in the projector's eyes before the test ends it.
	projector.heardFor = time.Second
	told := make(chan struct{})
	go func() { defer close(told); tellReads(ctx, pool, api, logger) }()
	heard := make(chan struct{})
	go func() { defer close(heard); hearReads(ctx, url, projector, logger) }()
	turns := newServeCatchUpTurns(3, projector)

	// The listener may not listen yet when the first beat is sent: the
	// beats go on while the read does.
	end := api.begin()
	waitState(t, projector, true, 10*time.Second, "a read is in flight in the api process")
	first := mustEnter(t, enterTurnLater(ctx, turns, 1000), "a read in flight lets one batch in")
	if first.limit != serveBusyHeldBackBatch {
		t.Fatalf("a batch while the api reads may read %d events, want %d", first.limit, serveBusyHeldBackBatch)
	}
	second := enterTurnLater(ctx, turns, 1000)
	mustNotEnter(t, second, 200*time.Millisecond, "the api read and a batch already ran")

	// Beats while the read goes on: at most one every readBeat.
	_, before := projector.state(time.Now())
	const held = 500 * time.Millisecond
	time.Sleep(held)
	_, after := projector.state(time.Now())
	if beats := after - before; beats == 0 || beats > uint64(held/readBeat)+2 {
		t.Fatalf("%d beats heard while a read was in flight for %s, want 1 to %d", beats, held, held/readBeat+2)
	}
	end()
	first.leave()
	mustEnter(t, second, "the first batch left").leave()
	waitState(t, projector, false, 5*time.Second, "the api's read ended")
	// The pause after the batch that overlapped the reads holds only while
	// reads go on: none now, so most batches of the full size.
	var idle []turnIn
	for range 3 {
		b := mustEnter(t, enterTurnLater(ctx, turns, 1000), "the api's reads ended")
		if b.limit != 1000 {
			t.Fatalf("a batch after the api's reads ended may read %d events, want 1000", b.limit)
		}
		idle = append(idle, b)
	}
	for _, b := range idle {
		b.leave()
	}
	// An idle api sends nothing.
	_, before = projector.state(time.Now())
	time.Sleep(200 * time.Millisecond)
	if _, after := projector.state(time.Now()); after != before {
		t.Fatalf("%d beats heard from an idle api", after-before)
	}
	cancel()
	<-told
	<-heard
}

// startServeRoles starts serve with roles on brokers, prefix and the
// database url; with the api role it loads the example catalog.
func startServeRoles(t *testing.T, brokers []string, prefix, url string, roles ...string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := ServeConfig{Roles: roles, KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: url, Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReplicationFactor: 1, Partitions: 6, RefreshInterval: time.Hour, DataDir: t.TempDir()}
	if slices.Contains(roles, RoleAPI) {
		cat, err := filepath.Abs("../../examples/catalog/all.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Catalogs = []string{cat}
	}
	s, err := StartServe(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestServeRequestsTakeNoParallelWorkers: the sessions of serve's pool
// for requests (the catalog API's reads, and the read models that share
// it) run with servePoolSettings: a filtered list's statements started two
// parallel workers per request at 300,000 entities.
func TestServeRequestsTakeNoParallelWorkers(t *testing.T) {
	s := startServeRoles(t, kafkatest.Brokers(t), kafkatest.TopicPrefix(t), pgtest.URL(t), RoleAPI)
	for k, want := range servePoolSettings {
		var got string
		if err := s.store.Pool().QueryRow(t.Context(), "SELECT current_setting($1)", k).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q in a session of serve's requests pool, want %q", k, got, want)
		}
	}
}

// TestASplitProjectorGivesWayToTheAPIsReads runs serve's roles as two
// servers on one database and one broker, as --split-roles does (the
// projector alone; the api and the ingester): the projector process counts
// the api process's catalog reads in flight, which its catch-up gives way to,
// and none once they stop.
func TestASplitProjectorGivesWayToTheAPIsReads(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	url := pgtest.URL(t)
	start := func(roles ...string) *Server { return startServeRoles(t, brokers, prefix, url, roles...) }
	proj := start(RoleProjector)
	api := start(RoleAPI, RoleIngester)
	select {
	case <-api.Loaded():
	case <-time.After(90 * time.Second):
		t.Fatal("catalogs not loaded within 90s")
	}
	reads := proj.projector.deps.Reads
	if busy, _ := reads.state(time.Now()); busy {
		t.Fatal("the projector counts reads in flight before the api served any")
	}

	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			resp, err := http.Get("http://" + api.Addr() + "/api/catalog/entities?filter=kind=component&limit=5")
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitState(t, reads, true, 10*time.Second, "the api process serves catalog reads one after another")
	// They stay counted while the reads go on (a beat may come late on a
	// loaded machine: most samples, not every one).
	counted := 0
	for range 20 {
		time.Sleep(25 * time.Millisecond)
		if busy, _ := reads.state(time.Now()); busy {
			counted++
		}
	}
	if counted < 15 {
		t.Fatalf("the projector counted the api's reads in %d of 20 samples while they went on", counted)
	}
	stop.Store(true)
	<-done
	waitState(t, reads, false, 2*time.Second, "the api's reads stopped")
}
