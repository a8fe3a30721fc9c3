package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventschema"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, name string
	ev       event.Envelope
}

// readSSE connects to the stream (resuming after lastID when set) and returns
// the first n events, then disconnects.
func readSSE(t *testing.T, base, lastID string, n int) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events/stream", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.id != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.ev); err != nil {
				t.Fatalf("data is not a CloudEvent: %v: %s", err, line)
			}
		}
	}
	if len(out) < n {
		t.Fatalf("stream gave %d events, want %d (%v)", len(out), n, sc.Err())
	}
	return out
}

// allEvents lists every event of the server's log through the audit API.
func allEvents(t *testing.T, base string) []client.AuditEvent {
	t.Helper()
	c := client.New(base, nil)
	var all []client.AuditEvent
	q := client.EventQuery{Limit: 1000}
	for {
		page, next, err := c.AuditEvents(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		q.After, _ = event.ParsePositions(next)
	}
}

// checkStreamResumes reads part of the stream, disconnects, makes more
// events, reconnects with Last-Event-ID, and checks every event of the log
// arrived exactly once, each subject's in log order.
func checkStreamResumes(t *testing.T, base, dir string) {
	t.Helper()
	first := readSSE(t, base, "", 20)
	// More events while the client is away.
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("more-%d.yaml", i))
		os.WriteFile(f, []byte(fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: more-%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", i)), 0o644)
		if code, _ := postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
			t.Fatalf("register %s: %d", f, code)
		}
	}
	log := allEvents(t, base)
	rest := readSSE(t, base, first[len(first)-1].id, len(log)-len(first))
	got := map[string]int{}
	lastOfSubject := map[string]int64{}
	for _, e := range append(first, rest...) {
		got[e.ev.ID]++
		if e.name != e.ev.Type {
			t.Fatalf("SSE event name %q, CloudEvent type %q", e.name, e.ev.Type)
		}
	}
	for _, it := range log {
		if got[it.Event.ID] != 1 {
			t.Fatalf("event %s (%s %s) arrived %d times", it.Event.ID, it.Event.Type, it.Event.Subject, got[it.Event.ID])
		}
	}
	if len(got) != len(log) {
		t.Fatalf("the stream gave %d distinct events, the log holds %d", len(got), len(log))
	}
	pos := map[string]client.AuditEvent{}
	for _, it := range log {
		pos[it.Event.ID] = it
	}
	for _, e := range append(first, rest...) {
		p := pos[e.ev.ID].Position
		if p <= lastOfSubject[e.ev.Subject] {
			t.Fatalf("subject %s out of order at event %s", e.ev.Subject, e.ev.ID)
		}
		lastOfSubject[e.ev.Subject] = p
	}
}

// TestEventStreamResumesWithLastEventID disconnects a Server-Sent Events
// client mid-stream and reconnects it with Last-Event-ID, on the embedded log
// and on six Kafka partitions: no event lost, none repeated.
func TestEventStreamResumesWithLastEventID(t *testing.T) {
	t.Run("dev", func(t *testing.T) {
		dir := t.TempDir()
		d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{examplesCatalog(t)}, Roots: []string{dir}})
		defer d.Close()
		checkStreamResumes(t, "http://"+d.Addr(), dir)
	})
	t.Run("serve", func(t *testing.T) {
		dir := t.TempDir()
		prefix := kafkatest.TopicPrefix(t)
		s := startServe(t, app.ServeConfig{KafkaBrokers: kafkatest.Brokers(t), TopicPrefix: prefix, Group: prefix + "projector",
			PostgresURL: pgtest.URL(t), Catalogs: []string{examplesCatalog(t)}, Roots: []string{dir}})
		checkStreamResumes(t, "http://"+s.Addr(), dir)
	})
}

// TestEventFeedLongPollWaitsForTheNextEvent asks for the events after the
// present end and gets the next write's events as soon as it lands.
func TestEventFeedLongPollWaitsForTheNextEvent(t *testing.T) {
	dir := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir}})
	defer d.Close()
	base := "http://" + d.Addr()
	type answer struct {
		Items []struct {
			Event event.Envelope `json:"event"`
		} `json:"items"`
		NextCursor string `json:"nextCursor"`
	}
	var empty answer
	start := time.Now()
	if code := get(t, d, "/api/events?after=now&wait=0.3", &empty); code != http.StatusOK || len(empty.Items) != 0 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("an idle poll: %d, %d items after %s", code, len(empty.Items), time.Since(start))
	}
	got := make(chan answer, 1)
	go func() {
		var a answer
		resp, err := http.Get(base + "/api/events?wait=30&types=backlot.entity.upserted.v1&after=" + empty.NextCursor)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
		}
		got <- a
	}()
	time.Sleep(200 * time.Millisecond)
	f := filepath.Join(dir, "c.yaml")
	os.WriteFile(f, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: polled\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"), 0o644)
	postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil)
	select {
	case a := <-got:
		if len(a.Items) != 1 || a.Items[0].Event.Subject != "component:default/polled" {
			t.Fatalf("the long poll answered %+v", a)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the long poll did not answer the write")
	}
}

// TestTheFeedAnswersItsPublishedSchemas checks the long-poll page against its
// published schema and serves the AsyncAPI document and the schemas.
func TestTheFeedAnswersItsPublishedSchemas(t *testing.T) {
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{examplesCatalog(t)}})
	defer d.Close()
	resp, err := http.Get("http://" + d.Addr() + "/api/events?limit=20&wait=0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := eventschema.Default().Validate(eventschema.EventsPageSchema, body); err != nil {
		t.Fatalf("the feed page breaks its schema: %v", err)
	}
	var doc map[string]any
	if code := get(t, d, "/api/events/asyncapi.json", &doc); code != http.StatusOK || doc["asyncapi"] != "3.0.0" {
		t.Fatalf("asyncapi.json: %d %v", code, doc["asyncapi"])
	}
	var schema map[string]any
	if code := get(t, d, "/api/events/schemas/"+eventschema.EnvelopeSchema, &schema); code != http.StatusOK || schema["$id"] == nil {
		t.Fatalf("envelope schema: %d %v", code, schema)
	}
	if code := get(t, d, "/api/events/schemas/nope.json", nil); code != http.StatusNotFound {
		t.Fatalf("an unknown schema: %d", code)
	}
}
