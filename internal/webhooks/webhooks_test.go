package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webhooks/sqlitesubs"
	"backlot.dev/backlot/workflows/netguard"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const secret = "s3cr3t-for-the-test-receiver"

// receiver is a webhook endpoint that checks signatures and can be down.
type receiver struct {
	t      *testing.T
	down   atomic.Bool
	failID atomic.Value // an event id it refuses, or ""
	mu     sync.Mutex
	got    []event.Envelope
	bad    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if id, _ := r.failID.Load().(string); id != "" && req.Header.Get("Backlot-Event-Id") == id {
		http.Error(w, "refused", http.StatusInternalServerError)
		return
	}
	sig := req.Header.Get("Backlot-Signature")
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	var at int64
	fmt.Sscan(ts, &at)
	r.mu.Lock()
	defer r.mu.Unlock()
	if want := webhooks.Sign(secret, time.Unix(at, 0), body); sig != want || req.Header.Get("Content-Type") != "application/cloudevents+json" {
		r.bad = append(r.bad, sig)
	}
	var ev event.Envelope
	if err := json.Unmarshal(body, &ev); err != nil {
		r.bad = append(r.bad, string(body))
	}
	r.got = append(r.got, ev)
}

func (r *receiver) received() []event.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Envelope(nil), r.got...)
}

// setup starts a delivering Manager whose guard allows loopback, where the
// test receiver listens.
func setup(t *testing.T, maxAttempts int) (*sqlitelog.Log, *webhooks.Manager, *receiver, *httptest.Server) {
	t.Helper()
	return setupGuarded(t, maxAttempts, netguard.Loopback())
}

// setupGuarded is setup with the Manager's guard.
func setupGuarded(t *testing.T, maxAttempts int, guard *netguard.Guard) (*sqlitelog.Log, *webhooks.Manager, *receiver, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	store, err := sqlitesubs.Open(filepath.Join(dir, "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m, err := webhooks.Start(ctx, webhooks.Config{Store: store, Log: log, Deliver: true, Logger: quiet, RetryInterval: 20 * time.Millisecond, MaxAttempts: maxAttempts, Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t}
	r.failID.Store("")
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return log, m, r, srv
}

func upsert(t *testing.T, subject string, version int) event.Envelope {
	t.Helper()
	ev, err := event.New(event.TypeEntityUpserted, subject, map[string]any{"ref": subject, "entity": map[string]any{"spec": map[string]any{"version": version}}}, event.Meta{Actor: "user:default/ada"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestWebhooksDeliverEverythingInOrderAfterAnOutage: the receiver is down
// while events are written, then up: every event the filter admits arrives,
// each subject's in order, signed; none the filter excludes.
func TestWebhooksDeliverEverythingInOrderAfterAnOutage(t *testing.T) {
	log, m, r, srv := setup(t, webhooks.MaxAttempts)
	sub, err := m.Create(context.Background(), "user:default/ada", webhooks.Input{URL: srv.URL, Secret: secret,
		Filter: `event.type == "backlot.entity.upserted.v1" && event.subject.startsWith("component:default/a")`})
	if err != nil {
		t.Fatal(err)
	}
	r.down.Store(true)
	var want []event.Envelope
	for v := range 5 {
		var batch []event.Envelope
		for _, s := range []string{"component:default/a1", "component:default/b1", "component:default/a2"} {
			ev := upsert(t, s, v)
			batch = append(batch, ev)
			if strings.HasPrefix(s, "component:default/a") {
				want = append(want, ev)
			}
		}
		rm, _ := event.New(event.TypeEntityRemoved, "component:default/a1", event.EntityRemoved{Ref: "component:default/a1"}, event.Meta{})
		batch = append(batch, rm)
		if _, err := log.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	if n := len(r.received()); n != 0 {
		t.Fatalf("%d deliveries while the receiver was down", n)
	}
	r.down.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for len(r.received()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything extra would show now
	got := r.received()
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, want %d", len(got), len(want))
	}
	if len(r.bad) > 0 {
		t.Fatalf("deliveries with bad signatures or bodies: %v", r.bad)
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("delivery %d is %s (%s), want %s (%s): order not kept", i, got[i].ID, got[i].Subject, want[i].ID, want[i].Subject)
		}
	}
	stored, err := m.Store().Get(context.Background(), sub.ID)
	if err != nil || stored.Cursor == 0 {
		t.Fatalf("the subscription's cursor did not move: %+v %v", stored, err)
	}
}

// TestWebhooksDeadLetterAndReplay: an event the receiver keeps refusing
// becomes a dead letter after the attempts, the next one still arrives, and
// replaying the dead letter once the receiver accepts it delivers it.
func TestWebhooksDeadLetterAndReplay(t *testing.T) {
	log, m, r, srv := setup(t, 3)
	sub, err := m.Create(context.Background(), "user:default/ada", webhooks.Input{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	first, second := upsert(t, "component:default/x", 1), upsert(t, "component:default/x", 2)
	r.failID.Store(first.ID)
	if _, err := log.Append(context.Background(), []event.Envelope{first, second}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(r.received()) < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.received(); len(got) != 1 || got[0].ID != second.ID {
		t.Fatalf("delivered %+v, want only the second event", got)
	}
	letters, err := m.Store().DeadLetters(context.Background(), sub.ID)
	if err != nil || len(letters) != 1 || letters[0].EventID != first.ID || letters[0].Reason == "" {
		t.Fatalf("dead letters %+v, %v", letters, err)
	}
	if err := m.Replay(context.Background(), sub.ID, first.ID); err == nil {
		t.Fatal("a replay the receiver refuses succeeded")
	}
	r.failID.Store("")
	if err := m.Replay(context.Background(), sub.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.received(); len(got) != 2 || got[1].ID != first.ID {
		t.Fatalf("after the replay: %+v", got)
	}
	if letters, _ := m.Store().DeadLetters(context.Background(), sub.ID); len(letters) != 0 {
		t.Fatalf("the replayed dead letter is still there: %+v", letters)
	}
	if _, err := m.Create(context.Background(), "x", webhooks.Input{URL: "ftp://x", Secret: secret}); err == nil {
		t.Fatal("an ftp URL was accepted")
	}
	if _, err := m.Create(context.Background(), "x", webhooks.Input{URL: srv.URL, Secret: secret, Filter: "event.type =="}); err == nil {
		t.Fatal("a broken filter was accepted")
	}
	if err := m.Delete(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
}

// TestWebhooksDeliverAfterTheOnlySubscriptionIsDeleted deletes the only
// subscription, then creates another: the delivery router must still run,
// and the new subscription receive the events written after it.
func TestWebhooksDeliverAfterTheOnlySubscriptionIsDeleted(t *testing.T) {
	ctx := context.Background()
	log, m, r, srv := setup(t, webhooks.MaxAttempts)
	first, err := m.Create(ctx, "user:default/ada", webhooks.Input{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a closing router would close now
	if _, err := m.Create(ctx, "user:default/ada", webhooks.Input{URL: srv.URL, Secret: secret}); err != nil {
		t.Fatalf("a subscription created after the only one was deleted: %v", err)
	}
	ev := upsert(t, "component:default/after", 1)
	if _, err := log.Append(ctx, []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.received(); len(got) != 1 || got[0].ID != ev.ID {
		t.Fatalf("delivered %d events after the new subscription, want the one written after it", len(got))
	}
}

// TestSubscriptionsDeletedWhileTheSyncRuns deletes subscriptions while a
// delivery is in flight, so each handler takes a while to stop, while the sync of other processes' subscriptions runs every
// millisecond: the sync never starts a subscription a second time while it
// stops (the router refuses a second handler of one name by panicking, which
// took the whole server down), and every subscription is gone after.
func TestSubscriptionsDeletedWhileTheSyncRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	store, err := sqlitesubs.Open(filepath.Join(dir, "webhooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m, err := webhooks.Start(mctx, webhooks.Config{Store: store, Log: log, Deliver: true, Logger: quiet, RetryInterval: 20 * time.Millisecond,
		MaxAttempts: webhooks.MaxAttempts, Guard: netguard.Loopback(), SyncEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// A slow endpoint that is down: a delivery is in flight for 100 ms.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		time.Sleep(100 * time.Millisecond)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for i := range 20 {
		sub, err := m.Create(ctx, "user:default/ada", webhooks.Input{URL: srv.URL, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := log.Append(ctx, []event.Envelope{upsert(t, "component:default/c", i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // a delivery is in flight
		if err := m.Delete(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	if subs, err := store.List(ctx); err != nil || len(subs) != 0 {
		t.Fatalf("%d subscriptions left after deleting each (%v)", len(subs), err)
	}
}
