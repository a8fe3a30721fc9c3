package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestWebhookThroughTheAPI subscribes through the API and measures the delay
// from sending a write to the delivery of its event.
func TestWebhookThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	// The receiver listens on 127.0.0.1: loopback is allowed explicitly.
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir}, AllowNetworks: []string{"127.0.0.0/8"}})
	defer d.Close()
	arrived := make(chan time.Time, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev event.Envelope
		json.Unmarshal(body, &ev)
		if ev.Type == string(event.TypeEntityUpserted) {
			arrived <- time.Now()
		}
	}))
	defer recv.Close()
	c := client.New("http://"+d.Addr(), nil)
	ctx := context.Background()
	sub, err := c.CreateSubscription(ctx, client.SubscriptionInput{URL: recv.URL, Secret: "a-secret-of-16-chars-or-more",
		Filter: `event.type == "backlot.entity.upserted.v1"`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubscription(ctx, client.SubscriptionInput{URL: recv.URL, Secret: "short"}); err == nil {
		t.Fatal("a short secret was accepted")
	}
	// Metadata and private addresses stay refused: a 400 naming the field
	// url, the address and its class.
	for target, want := range map[string]string{
		"http://169.254.169.254/latest/meta-data/": "169.254.169.254:80 (metadata address)",
		"http://10.0.0.1/hook":                     "10.0.0.1:80 (private address)",
	} {
		var body struct {
			Error struct{ Message string } `json:"error"`
		}
		code, _ := postJSON(t, "http://"+d.Addr()+"/api/events/subscriptions", map[string]string{"url": target, "secret": "a-secret-of-16-chars-or-more"}, &body)
		if code != http.StatusBadRequest || !strings.Contains(body.Error.Message, `url "`+target+`"`) || !strings.Contains(body.Error.Message, want) {
			t.Errorf("subscription to %s: %d %q, want 400 naming url and %q", target, code, body.Error.Message, want)
		}
	}
	var delays []time.Duration
	for i := range 20 {
		f := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
		os.WriteFile(f, []byte(fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hooked-%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", i)), 0o644)
		sent := time.Now()
		if code, _ := postJSON(t, "http://"+d.Addr()+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
			t.Fatalf("register: %d", code)
		}
		select {
		case at := <-arrived:
			delays = append(delays, at.Sub(sent))
		case <-time.After(20 * time.Second):
			t.Fatalf("write %d was not delivered", i)
		}
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	t.Logf("write sent → webhook delivered: p50 %s, max %s", delays[len(delays)/2], delays[len(delays)-1])
	subs, err := c.Subscriptions(ctx)
	if err != nil || len(subs) != 1 || subs[0].ID != sub.ID || subs[0].Cursor == 0 {
		t.Fatalf("subscriptions: %+v, %v", subs, err)
	}
	if ds, err := c.DeadLetters(ctx, sub.ID); err != nil || len(ds) != 0 {
		t.Fatalf("dead letters: %+v %v", ds, err)
	}
	if err := c.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeadLetters(ctx, sub.ID); !client.IsNotFound(err) {
		t.Fatalf("dead letters of a deleted subscription: %v", err)
	}
}

// TestWebhookOnServe subscribes on backlot serve: the projector role delivers
// the events written after the subscription, from Kafka, and none before it.
func TestWebhookOnServe(t *testing.T) {
	dir := t.TempDir()
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: kafkatest.Brokers(t), TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Catalogs: []string{examplesCatalog(t)}, Roots: []string{dir}, AllowNetworks: []string{"127.0.0.0/8"}})
	got := make(chan event.Envelope, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev event.Envelope
		json.Unmarshal(body, &ev)
		got <- ev
	}))
	defer recv.Close()
	c := client.New("http://"+s.Addr(), nil)
	if _, err := c.CreateSubscription(context.Background(), client.SubscriptionInput{URL: recv.URL, Secret: "a-secret-of-16-chars-or-more",
		Filter: `event.type == "backlot.entity.upserted.v1"`}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "hooked.yaml")
	os.WriteFile(f, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hooked\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"), 0o644)
	if code, _ := postJSON(t, "http://"+s.Addr()+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	select {
	case ev := <-got:
		if ev.Subject != "component:default/hooked" {
			t.Fatalf("delivered %s, want only the event written after the subscription", ev.Subject)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing delivered")
	}
	select {
	case ev := <-got:
		t.Fatalf("a second delivery: %s %s", ev.Type, ev.Subject)
	case <-time.After(500 * time.Millisecond):
	}
}
