package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakStats counts requests, errors and latencies per endpoint. It is safe
// for concurrent use.
type soakStats struct {
	mu        sync.Mutex
	endpoints map[string]*endpointStats
	errors    atomic.Int64
	// polls counts the GETs of registerVisible's look-ups, which are not
	// requests of their own (SoakResult.VisibilityPolls).
	polls   atomic.Int64
	samples []string // the first few error messages
	// servers names the processes by the base URL of their API; byServer
	// counts the errors whose message names a base.
	servers  map[string]string
	byServer map[string]int64
}

type endpointStats struct {
	hist   histogram
	errors atomic.Int64
}

// maxErrorSamples is how many error messages a soak keeps to report.
const maxErrorSamples = 10

// newSoakStats counts requests against the servers, named by their base URLs.
func newSoakStats(servers map[string]string) *soakStats {
	return &soakStats{endpoints: map[string]*endpointStats{}, servers: servers, byServer: map[string]int64{}}
}

// errorsByServer returns the errors counted per server name.
func (s *soakStats) errorsByServer() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.byServer))
	for k, v := range s.byServer {
		out[k] = v
	}
	return out
}

func (s *soakStats) endpoint(name string) *endpointStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoints[name]
	if e == nil {
		e = &endpointStats{}
		s.endpoints[name] = e
	}
	return e
}

// fail counts an error of endpoint name (empty for one of no endpoint).
func (s *soakStats) fail(name string, err error) {
	if name != "" {
		s.endpoint(name).errors.Add(1)
	}
	s.errors.Add(1)
	msg := err.Error()
	s.mu.Lock()
	for base, server := range s.servers {
		if strings.Contains(msg, base+"/") {
			s.byServer[server]++
		}
	}
	if len(s.samples) < maxErrorSamples {
		s.samples = append(s.samples, fmt.Sprintf("%s: %v", name, err))
	}
	s.mu.Unlock()
}

// timed runs do as a request of endpoint name and counts its latency, or its error.
func (s *soakStats) timed(name string, do func() error) error {
	t := time.Now()
	err := do()
	if err != nil {
		s.fail(name, err)
		return err
	}
	s.endpoint(name).hist.add(time.Since(t))
	return nil
}

// reader requests lists, by-query pages and facets from the API bases in
// turn until stop ends; requests run under ctx, so the one in flight when
// stop ends completes (and counts).
func reader(ctx, stop context.Context, c *http.Client, bases []string, groups []string, seed uint64, st *soakStats) {
	rng := rand.New(rand.NewPCG(seed, 11))
	queries := []struct {
		name string
		path func() string
	}{
		{"list", func() string {
			return "/api/catalog/entities?filter=kind=component,spec.type=service&limit=50"
		}},
		{"byQueryPage", func() string {
			return "/api/catalog/entities/by-query?filter=kind=component,spec.lifecycle=production&orderField=metadata.name,asc&limit=20"
		}},
		{"byQueryPageOwner", func() string {
			return "/api/catalog/entities/by-query?filter=kind=component,spec.owner=" + url.QueryEscape(groups[rng.IntN(len(groups))]) + "&orderField=metadata.name,asc&limit=20"
		}},
		{"facets", func() string {
			return "/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&facet=metadata.tags&filter=kind=component"
		}},
		{"facetsOwner", func() string {
			return "/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&filter=kind=component,spec.owner=" + url.QueryEscape(groups[rng.IntN(len(groups))])
		}},
	}
	for i := rng.IntN(len(queries)); stop.Err() == nil && ctx.Err() == nil; i++ {
		q := queries[i%len(queries)]
		u := bases[i%len(bases)] + q.path()
		st.timed(q.name, func() error { return getCtx(ctx, c, u) })
	}
}

// getCtx GETs u and discards the answer; a status other than 200 is an error.
func getCtx(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// soakWriter registers file locations of its own, edits them and reports
// facts about their components.
type soakWriter struct {
	id     int
	dir    string // the folder of its files, inside the catalog's folder
	bases  []string
	owner  string
	pause  time.Duration
	c      *http.Client
	st     *soakStats
	rng    *rand.Rand
	names  []string // its components, readable
	edits  map[string]int
	next   int
	writes *atomic.Int64
	// refs receives every entity ref the writer's writes concern, for the
	// followers' check that the log holds them.
	refs func(string)
}

// visibleWait is how long a registered component may take to be readable.
const visibleWait = 60 * time.Second

// run writes until stop ends: a registration, then edits and facts reports
// in turn. Requests run under ctx, so the write in flight when stop ends
// completes (and counts).
func (w *soakWriter) run(ctx, stop context.Context) {
	for i := 0; stop.Err() == nil && ctx.Err() == nil; i++ {
		base := w.bases[i%len(w.bases)]
		var err error
		switch {
		case len(w.names) == 0 || i%4 == 0:
			err = w.register(ctx, base)
		case i%4 == 2:
			err = w.edit(ctx, base)
		default:
			err = w.facts(ctx, base)
		}
		if err == nil {
			w.writes.Add(1)
		}
		select {
		case <-stop.Done():
		case <-time.After(w.pause):
		}
	}
}

func (w *soakWriter) file(name string) string { return filepath.Join(w.dir, name+".yaml") }

func (w *soakWriter) writeFile(name string, version int) error {
	doc := fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: soak writer %d, version %d
spec:
  type: service
  lifecycle: experimental
  owner: %s
`, name, w.id, version, w.owner)
	tmp := w.file(name) + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, w.file(name))
}

// register writes a new file, registers it as a location and waits until
// its component is readable.
func (w *soakWriter) register(ctx context.Context, base string) error {
	name := fmt.Sprintf("soak-w%d-%d", w.id, w.next)
	w.next++
	if err := w.writeFile(name, 0); err != nil {
		w.st.fail("register", err)
		return err
	}
	w.edits[name] = 0
	w.refs("component:default/" + name)
	body := map[string]string{"type": "file", "target": w.file(name)}
	if err := w.st.timed("register", func() error { return postCtx(ctx, w.c, base+"/api/catalog/locations", body) }); err != nil {
		return err
	}
	t := time.Now()
	err := w.st.timed("registerVisible", func() error {
		for {
			w.st.polls.Add(1)
			err := getCtx(ctx, w.c, base+"/api/catalog/entities/by-name/component/default/"+name)
			if err == nil {
				return nil
			}
			if ctx.Err() != nil || !strings.Contains(err.Error(), "404") || time.Since(t) > visibleWait {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err == nil {
		w.names = append(w.names, name)
	}
	return err
}

// edit rewrites one of its files and asks for a refresh of its component.
func (w *soakWriter) edit(ctx context.Context, base string) error {
	name := w.names[w.rng.IntN(len(w.names))]
	w.edits[name]++
	if err := w.writeFile(name, w.edits[name]); err != nil {
		w.st.fail("editRefresh", err)
		return err
	}
	body := map[string]string{"entityRef": "component:default/" + name}
	return w.st.timed("editRefresh", func() error { return postCtx(ctx, w.c, base+"/api/catalog/refresh", body) })
}

// facts reports a fact about one of its components.
func (w *soakWriter) facts(ctx context.Context, base string) error {
	name := w.names[w.rng.IntN(len(w.names))]
	body := map[string]any{"items": []map[string]any{{"entity": "component:default/" + name, "source": "soak",
		"facts": map[string]any{"coverage": w.rng.IntN(100), "mainBranchPassing": w.rng.IntN(2) == 0}}}}
	return w.st.timed("facts", func() error { return postCtx(ctx, w.c, base+"/api/facts", body) })
}

// postCtx POSTs body as JSON; a status of 300 or more is an error.
func postCtx(ctx context.Context, c *http.Client, u string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// follower reads the change feed's Server-Sent Events from cursor and
// records every event in seq; it reconnects with Last-Event-ID when the
// stream breaks (counted as an error).
type follower struct {
	id         int
	base       string
	cursor     string
	c          *http.Client
	st         *soakStats
	seq        *eventSeq
	reconnects atomic.Int64
	connected  chan struct{}
	once       sync.Once
}

// run follows the feed until ctx ends.
func (f *follower) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := f.stream(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = fmt.Errorf("the stream ended")
		}
		f.st.fail("stream", fmt.Errorf("follower %d: %w", f.id, err))
		f.reconnects.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// sseEvent is the part of a CloudEvent the follower checks.
type sseEvent struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Subject string `json:"subject"`
}

func (f *follower) stream(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/api/events/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Last-Event-ID", f.cursor)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s/api/events/stream: %s: %s", f.base, resp.Status, bytes.TrimSpace(b))
	}
	f.once.Do(func() { close(f.connected) })
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64*1024), 16<<20)
	var id, data string
	for s.Scan() {
		line := s.Text()
		switch {
		case line == "":
			if data != "" {
				var ev sseEvent
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					return fmt.Errorf("event after cursor %s: %v", f.cursor, err)
				}
				f.seq.add(ev.Subject, eventKey(ev.Source, ev.ID))
				if id != "" {
					f.cursor = id
				}
			}
			id, data = "", ""
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		case strings.HasPrefix(line, "event: error"):
			return fmt.Errorf("the server sent an error event")
		}
	}
	return s.Err()
}

// readLog reads the whole log after cursor through the long-poll feed
// (without waiting) into seq, and answers the cursor after its end.
func readLog(c *http.Client, base, cursor string, seq *eventSeq) (string, error) {
	for {
		var page struct {
			Items []struct {
				Event sseEvent `json:"event"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		if err := GetJSON(c, base+"/api/events?limit=1000&wait=0&after="+url.QueryEscape(cursor), &page); err != nil {
			return cursor, err
		}
		for _, it := range page.Items {
			seq.add(it.Event.Subject, eventKey(it.Event.Source, it.Event.ID))
		}
		if page.NextCursor != "" {
			cursor = page.NextCursor
		}
		if len(page.Items) == 0 {
			return cursor, nil
		}
	}
}
