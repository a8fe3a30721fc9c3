package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/client"
)

// sseBenchEntities is the size of the generated catalog whose events
// BenchmarkSSEThroughput streams.
const sseBenchEntities = 5000

// benchStartDev starts a dev server on a free port for a benchmark, waits for
// its catalogs and closes it when the benchmark ends.
func benchStartDev(b *testing.B, cfg app.DevConfig) *app.Dev {
	b.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = quietLogger()
	cfg.RefreshInterval = time.Hour
	d, err := app.StartDev(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	select {
	case <-d.Loaded():
	case <-time.After(5 * time.Minute):
		b.Fatal("catalogs not loaded within 5m")
	}
	if err := d.LoadErr(); err != nil {
		b.Fatal(err)
	}
	return d
}

// feedHeads returns the cursor of the feed's present end.
func feedHeads(b *testing.B, base string) event.Positions {
	b.Helper()
	resp, err := http.Get(base + "/api/events?after=now&wait=0&limit=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		NextCursor string `json:"nextCursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /api/events?after=now: %d %v", resp.StatusCode, err)
	}
	p, err := event.ParsePositions(page.NextCursor)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// quietHeads waits until the log stops growing (the collectors and the badge
// evaluator write after the catalog is loaded) and returns its end.
func quietHeads(b *testing.B, base string) event.Positions {
	b.Helper()
	last := feedHeads(b, base)
	stable := time.Now()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		now := feedHeads(b, base)
		if !now.Covers(last) || !last.Covers(now) {
			last, stable = now, time.Now()
			continue
		}
		if time.Since(stable) >= 2*time.Second {
			return last
		}
	}
	b.Fatal("the log kept growing for 5m")
	return nil
}

// streamToEnd reads GET /api/events/stream from the start of the log until
// the cursor of an event covers end, and returns how many events it read.
func streamToEnd(b *testing.B, base string, end event.Positions) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		b.Fatalf("stream: %d, content type %q", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	var id string
	hasData := false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if id == "" {
				continue
			}
			if !hasData {
				b.Fatalf("event %s without data", id)
			}
			n++
			cur, err := event.ParsePositions(id)
			if err != nil {
				b.Fatalf("event id %q: %v", id, err)
			}
			if cur.Covers(end) {
				return n
			}
			id, hasData = "", false
		case bytes.HasPrefix(line, []byte("id: ")):
			id = string(line[len("id: "):])
		case bytes.HasPrefix(line, []byte("data: {")):
			hasData = true
		case bytes.HasPrefix(line, []byte("event: error")):
			b.Fatalf("the stream reported an error after %d events", n)
		}
	}
	b.Fatalf("the stream ended after %d events, before %s: %v", n, end, sc.Err())
	return 0
}

// BenchmarkSSEThroughput measures how fast one Server-Sent Events client
// reads the whole log of a dev server holding a generated catalog of
// sseBenchEntities entities: each iteration connects without Last-Event-ID
// and reads until it has every event. It reports events/s.
func BenchmarkSSEThroughput(b *testing.B) {
	dir := b.TempDir()
	sum, err := gen.Generate(dir, gen.Config{Entities: sseBenchEntities, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	d := benchStartDev(b, app.DevConfig{DataDir: b.TempDir(), Catalogs: []string{sum.RootFile}})
	base := "http://" + d.Addr()
	end := quietHeads(b, base)
	var events int
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		events = streamToEnd(b, base, end)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(events)*float64(b.N)/elapsed.Seconds(), "events/s")
}

// hookReceiver is a webhook endpoint that records when each subject's
// event arrived.
type hookReceiver struct {
	mu      sync.Mutex
	waiting map[string]chan time.Time
}

// expect returns the channel that receives the arrival time of subject's
// next event.
func (h *hookReceiver) expect(subject string) <-chan time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan time.Time, 1)
	h.waiting[subject] = ch
	return ch
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	var ev event.Envelope
	if json.Unmarshal(body, &ev) != nil || ev.Type != string(event.TypeEntityUpserted) {
		return
	}
	h.mu.Lock()
	ch := h.waiting[ev.Subject]
	delete(h.waiting, ev.Subject)
	h.mu.Unlock()
	if ch != nil {
		ch <- at
	}
}

// BenchmarkWebhookDelay measures the time from sending an API write (the
// registration of a file location holding one new component) until a
// webhook subscriber receives that component's backlot.entity.upserted.v1
// event. It reports the p50 and the mean in milliseconds.
func BenchmarkWebhookDelay(b *testing.B) {
	dir := b.TempDir()
	// The webhook receiver listens on 127.0.0.1: loopback is allowed explicitly.
	d := benchStartDev(b, app.DevConfig{DataDir: b.TempDir(), Roots: []string{dir}, AllowNetworks: []string{"127.0.0.0/8"}})
	base := "http://" + d.Addr()
	recv := &hookReceiver{waiting: map[string]chan time.Time{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	c := client.New(base, nil)
	if _, err := c.CreateSubscription(context.Background(), client.SubscriptionInput{URL: srv.URL, Secret: "a-secret-of-16-chars-or-more",
		Filter: `event.type == "backlot.entity.upserted.v1"`}); err != nil {
		b.Fatal(err)
	}
	n := 0
	// write registers one new component and returns how long its event took
	// to reach the receiver.
	write := func() time.Duration {
		name := fmt.Sprintf("hooked-%d", n)
		n++
		f := filepath.Join(dir, name+".yaml")
		doc := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", name)
		if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
		arrived := recv.expect("component:default/" + name)
		body, _ := json.Marshal(map[string]string{"type": "file", "target": f})
		sent := time.Now()
		resp, err := http.Post(base+"/api/catalog/locations", "application/json", strings.NewReader(string(body)))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("register %s: %d", name, resp.StatusCode)
		}
		select {
		case at := <-arrived:
			return at.Sub(sent)
		case <-time.After(30 * time.Second):
			b.Fatalf("the event of %s was not delivered within 30s", name)
			return 0
		}
	}
	// The first delivery waits for the subscription's consumer to start.
	write()
	delays := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		delays = append(delays, write())
	}
	b.StopTimer()
	slices.Sort(delays)
	var total time.Duration
	for _, dl := range delays {
		total += dl
	}
	ms := func(dl time.Duration) float64 { return float64(dl) / float64(time.Millisecond) }
	b.ReportMetric(ms(delays[len(delays)/2]), "p50-ms")
	b.ReportMetric(ms(total)/float64(len(delays)), "mean-ms")
	b.ReportMetric(ms(delays[len(delays)-1]), "max-ms")
}
