package messaging_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/messaging/messagingtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openLog(t *testing.T) *sqlitelog.Log {
	t.Helper()
	l, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func events(t *testing.T, n int, subject string) []event.Envelope {
	t.Helper()
	out := make([]event.Envelope, n)
	for i := range out {
		ev, err := event.New(event.TypeEntityRemoved, fmt.Sprintf("%s-%d", subject, i%3),
			event.EntityRemoved{Ref: subject, UID: fmt.Sprint(i), Reason: "test"},
			event.Meta{Actor: "user:default/tester", CorrelationID: fmt.Sprintf("corr-%d", i), Commit: "abc123"})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ev
	}
	return out
}

func TestEnvelopeRoundTripsThroughAMessage(t *testing.T) {
	ev := events(t, 1, "component:default/a")[0]
	ev.DataSchema = "https://backlot.dev/schemas/x.json"
	ev.Partition, ev.Position = 3, 41
	back, err := messaging.FromMessage(messaging.ToMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(ev)
	b, _ := json.Marshal(back)
	if string(a) != string(b) || back.Partition != 3 || back.Position != 41 {
		t.Fatalf("round trip changed the event:\n%s\n%s (%d/%d)", a, b, back.Partition, back.Position)
	}
	if got := middleware.MessageCorrelationID(messaging.ToMessage(ev)); got != ev.CorrelationID {
		t.Fatalf("correlation id %q, want %q", got, ev.CorrelationID)
	}
	bad := message.NewMessage("x", []byte(`{}`))
	if _, err := messaging.FromMessage(bad); err == nil || !strings.Contains(err.Error(), "not a Backlot event") {
		t.Fatalf("a message without attributes: %v", err)
	}
}

func TestLogSubscriberDeliversInOrderRedeliversNacksAndResumes(t *testing.T) {
	l := openLog(t)
	evs := events(t, 10, "component:default/a")
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	cursors, err := messagingtest.NewFileCursors(filepath.Join(t.TempDir(), "cursors.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := messaging.LogSubscriberConfig{Log: l, Cursors: cursors, Consumer: "test", NackResendDelay: time.Millisecond, Logger: quiet}
	sub, err := messaging.NewLogSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	nacked := false
	for len(got) < 6 {
		m := <-ch
		ev, err := messaging.FromMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 2 && !nacked {
			nacked = true
			m.Nack()
			continue
		}
		got = append(got, ev.ID)
		m.Ack()
	}
	sub.Close()
	for i, id := range got {
		if id != evs[i].ID {
			t.Fatalf("delivery %d is %s, want %s (order or redelivery broken)", i, id, evs[i].ID)
		}
	}
	// With the default marshaler the cursor is named by the consumer alone,
	// whatever the topic (webhooks.Store keeps it under that name).
	if pos, err := cursors.Load(t.Context(), "test"); err != nil || pos != 6 {
		t.Fatalf("cursor %q = %d, %v; want 6, the last acked position", "test", pos, err)
	}
	// A new subscriber with the same cursors resumes after the last ack.
	cursors2, err := messagingtest.NewFileCursors(filepath.Join(filepath.Dir(cursorsPath(t, cursors)), "cursors.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Cursors = cursors2
	sub2, _ := messaging.NewLogSubscriber(cfg)
	defer sub2.Close()
	ch2, _ := sub2.Subscribe(t.Context(), "events")
	m := <-ch2
	ev, _ := messaging.FromMessage(m)
	if ev.ID != evs[6].ID || ev.Position != 7 {
		t.Fatalf("resumed at %s (position %d), want %s at 7", ev.ID, ev.Position, evs[6].ID)
	}
	m.Ack()
}

func cursorsPath(t *testing.T, c *messagingtest.FileCursors) string {
	t.Helper()
	return c.Path()
}

// TestRouterRetriesRecoversAndPoisons runs the router's middleware over the
// embedded log: a handler that fails twice succeeds on retry, one that panics or
// always fails sends its message to the poison queue with the reason, and the
// metrics are registered.
func TestRouterRetriesRecoversAndPoisons(t *testing.T) {
	l := openLog(t)
	evs := events(t, 3, "component:default/a")
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	poison := gochannel.NewGoChannel(gochannel.Config{Persistent: true}, nil)
	defer poison.Close()
	reg := prometheus.NewRegistry()
	r, err := messaging.NewRouter(messaging.RouterConfig{Logger: quiet, Registry: reg, Poison: poison, MaxRetries: 3, RetryInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cursors, _ := messagingtest.NewFileCursors(filepath.Join(t.TempDir(), "cursors.json"))
	sub := func(name string) message.Subscriber {
		s, err := messaging.NewLogSubscriber(messaging.LogSubscriberConfig{Log: l, Cursors: cursors, Consumer: name, NackResendDelay: time.Millisecond, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var attempts atomic.Int32
	var mu sync.Mutex
	var handled []string
	r.AddConsumerHandler("flaky", "events", sub("flaky"), func(m *message.Message) error {
		if evID := m.Metadata.Get(messaging.MetaID); evID == evs[0].ID && attempts.Add(1) <= 2 {
			return errors.New("not yet")
		}
		mu.Lock()
		handled = append(handled, m.Metadata.Get(messaging.MetaID))
		mu.Unlock()
		return nil
	})
	r.AddConsumerHandler("panics", "events", sub("panics"), func(m *message.Message) error {
		if m.Metadata.Get(messaging.MetaID) == evs[1].ID {
			panic("boom")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	poisoned, err := poison.Subscribe(ctx, messaging.PoisonTopic)
	if err != nil {
		t.Fatal(err)
	}
	go r.Run(ctx)
	defer r.Close()

	select {
	case m := <-poisoned:
		m.Ack()
		if id := m.Metadata.Get(messaging.MetaID); id != evs[1].ID {
			t.Fatalf("poisoned %s, want %s", id, evs[1].ID)
		}
		if reason := m.Metadata.Get(middleware.ReasonForPoisonedKey); !strings.Contains(reason, "boom") {
			t.Fatalf("poison reason %q does not carry the panic", reason)
		}
		if h := m.Metadata.Get(middleware.PoisonedHandlerKey); h != "panics" {
			t.Fatalf("poisoned by handler %q", h)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing reached the poison queue")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(handled)
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flaky handler handled %d of 3", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if a := attempts.Load(); a != 3 {
		t.Fatalf("first event attempted %d times, want 3 (two failures, one retry success)", a)
	}
	mu.Lock()
	if handled[0] != evs[0].ID {
		t.Fatalf("retry did not keep order: %v", handled)
	}
	mu.Unlock()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if !strings.Contains(strings.Join(names, " "), "backlot_handlers_handler_execution_time_seconds") {
		t.Fatalf("router metrics missing from the registry: %v", names)
	}
}
