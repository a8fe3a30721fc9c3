package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
)

// startDev starts backlot dev in-process with the example catalog and root
// as an extra folder file locations may read.
func startDev(t *testing.T, root string) *app.Dev {
	t.Helper()
	cat, err := filepath.Abs("../catalog/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.StartDev(context.Background(), app.DevConfig{
		DataDir:         t.TempDir(),
		Addr:            "127.0.0.1:0",
		Catalogs:        []string{cat},
		Roots:           []string{root},
		RefreshInterval: time.Hour,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	select {
	case <-d.Loaded():
	case <-time.After(60 * time.Second):
		t.Fatal("catalogs not loaded within 60s")
	}
	if err := d.LoadErr(); err != nil {
		t.Fatal(err)
	}
	return d
}

// call makes one API request and decodes the answer into out when given.
func call(t *testing.T, method, url string, body, out any, want int) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// entityView is what both the API's entities and the events' bodies carry,
// and what the test compares.
type entityView struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   viewMetadata   `json:"metadata"`
	Spec       map[string]any `json:"spec"`
}

type viewMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Tags        []string          `json:"tags"`
}

func (v entityView) ref() string {
	ns := v.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(v.Kind + ":" + ns + "/" + v.Metadata.Name)
}

// diff compares the mirror with GET /api/catalog/entities and describes the
// first differences, or returns "" when they agree: the same refs (the
// generated Location entities by ref only), and for every other entity the
// same kind, apiVersion, metadata names, labels, tags and spec.
func diff(t *testing.T, base string, m *Mirror) string {
	t.Helper()
	var api []entityView
	call(t, "GET", base+"/api/catalog/entities", nil, &api, http.StatusOK)
	generated := map[string]bool{}
	for _, ref := range m.LocationRefs() {
		generated[ref] = true
	}
	mirrored := m.Entities()
	var out []string
	seen := map[string]bool{}
	for _, a := range api {
		ref := a.ref()
		seen[ref] = true
		if generated[ref] {
			continue
		}
		body, ok := mirrored[ref]
		if !ok {
			out = append(out, "missing from the mirror: "+ref)
			continue
		}
		var got entityView
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("mirrored %s: %v", ref, err)
		}
		if got.ref() != ref {
			out = append(out, fmt.Sprintf("mirrored under %s: %s", ref, got.ref()))
		}
		if !reflect.DeepEqual(got, a) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(a)
			out = append(out, fmt.Sprintf("%s differs:\n mirror %s\n api    %s", ref, g, w))
		}
	}
	for ref := range mirrored {
		if !seen[ref] {
			out = append(out, "in the mirror, not in the catalog: "+ref)
		}
	}
	for ref := range generated {
		if !seen[ref] {
			out = append(out, "generated location in the mirror, not in the catalog: "+ref)
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… and %d more", len(out)-5))
	}
	return strings.Join(out, "\n")
}

// converge polls until the mirror agrees with the API, failing after a deadline.
func converge(t *testing.T, base string, m func() *Mirror, step string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := diff(t, base, m())
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the mirror did not converge within 30s:\n%s", step, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cutOnce is a transport that, on its first stream response, ends the body
// with an error after cutAt bytes: a connection dropped in the middle of an
// event.
type cutOnce struct {
	cutAt int
	done  atomic.Bool
}

func (c *cutOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/api/events/stream") || c.done.Swap(true) {
		return resp, err
	}
	resp.Body = &cutBody{rc: resp.Body, left: c.cutAt}
	return resp, nil
}

type cutBody struct {
	rc   io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection cut by the test")
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= n
	return n, err
}

func (b *cutBody) Close() error { return b.rc.Close() }

// syncBuffer collects the consumer's change lines from its goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// consumer is one run of the follower in a goroutine.
type consumer struct {
	m      *Mirror
	cancel context.CancelFunc
	done   chan error
}

func startConsumer(t *testing.T, base, state string, client *http.Client, out io.Writer) *consumer {
	t.Helper()
	m, err := LoadMirror(state)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumer{m: m, cancel: cancel, done: make(chan error, 1)}
	f := &Follower{URL: base, Mirror: m, StatePath: state, Client: client, Out: out,
		Logf: t.Logf, SaveEvery: 100 * time.Millisecond, MinBackoff: 10 * time.Millisecond}
	go func() { c.done <- f.Run(ctx) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

func (c *consumer) stop(t *testing.T) {
	t.Helper()
	if c.cancel == nil {
		return
	}
	c.cancel()
	c.cancel = nil
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("consumer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consumer did not stop within 10s")
	}
}

const serviceYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  labels:
    tier: %q
spec:
  type: service
  lifecycle: %s
  owner: platform-team
`

func writeCatalog(t *testing.T, path string, docs ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMirrorConvergesWithTheCatalog(t *testing.T) {
	root := t.TempDir()
	d := startDev(t, root)
	base := "http://" + d.Addr()
	state := filepath.Join(t.TempDir(), "mirror.json")
	out := &syncBuffer{}

	// The first connection is cut in the middle of the example catalog's
	// events; the follower reconnects with Last-Event-ID by itself.
	cut := &cutOnce{cutAt: 20000}
	c := startConsumer(t, base, state, &http.Client{Transport: cut}, out)
	converge(t, base, func() *Mirror { return c.m }, "example catalog")
	if !cut.done.Load() {
		t.Fatal("the stream was never cut")
	}

	// A new file location under the root.
	file := filepath.Join(root, "catalog-info.yaml")
	writeCatalog(t, file,
		fmt.Sprintf(serviceYAML, "ledger", "1", "production"),
		fmt.Sprintf(serviceYAML, "invoicer", "2", "experimental"))
	var created struct {
		Location struct {
			ID string `json:"id"`
		} `json:"location"`
	}
	call(t, "POST", base+"/api/catalog/locations", map[string]string{"type": "file", "target": file}, &created, http.StatusCreated)
	converge(t, base, func() *Mirror { return c.m }, "location registered")
	if len(c.m.LocationRefs()) != 2 {
		t.Errorf("mirror knows %d locations, want 2: %v", len(c.m.LocationRefs()), c.m.LocationRefs())
	}

	// The consumer goes away; the catalog changes while it is gone: ledger
	// changes, invoicer vanishes, billing appears.
	c.stop(t)
	stopped := c.m.Cursor()
	writeCatalog(t, file,
		fmt.Sprintf(serviceYAML, "ledger", "1", "deprecated"),
		fmt.Sprintf(serviceYAML, "billing", "3", "production"))
	call(t, "POST", base+"/api/catalog/refresh", map[string]string{"entityRef": "component:default/ledger"}, nil, http.StatusOK)
	if d := diff(t, base, c.m); !strings.Contains(d, "billing") {
		t.Fatalf("the stopped mirror already agrees with the changed catalog:\n%s", d)
	}

	// Started again from its state file, it resumes after its cursor. (The
	// saved state is checked before the restart: once running, the consumer
	// at once applies what happened while it was away.)
	saved, err := LoadMirror(state)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Cursor() != stopped {
		t.Fatalf("the state file holds cursor %q, the consumer stopped at %q", saved.Cursor(), stopped)
	}
	c = startConsumer(t, base, state, nil, out)
	converge(t, base, func() *Mirror { return c.m }, "file edited and refreshed")
	var ledger entityView
	if err := json.Unmarshal(c.m.Entities()["component:default/ledger"], &ledger); err != nil {
		t.Fatal(err)
	}
	if ledger.Spec["lifecycle"] != "deprecated" {
		t.Errorf("mirrored ledger lifecycle %v, want deprecated", ledger.Spec["lifecycle"])
	}

	// Removing the location removes its entities and its generated Location.
	call(t, "DELETE", base+"/api/catalog/locations/"+created.Location.ID, nil, nil, http.StatusNoContent)
	converge(t, base, func() *Mirror { return c.m }, "location removed")
	ents := c.m.Entities()
	for _, ref := range []string{"component:default/ledger", "component:default/billing", "component:default/invoicer"} {
		if _, ok := ents[ref]; ok {
			t.Errorf("%s still mirrored after its location was removed", ref)
		}
	}
	if _, ok := c.m.LocationRefs()[created.Location.ID]; ok {
		t.Error("the removed location's generated entity is still mirrored")
	}

	// The change lines: each applied once, in order, across the cut and the restart.
	c.stop(t)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, want := range []string{
		"upsert component:default/invoicer", "remove component:default/invoicer",
		"upsert component:default/billing", "remove component:default/billing",
	} {
		if n := slices.Index(lines, want); n < 0 {
			t.Errorf("no line %q in the consumer's output", want)
		} else if slices.Contains(lines[n+1:], want) {
			t.Errorf("line %q printed twice", want)
		}
	}

	// The state file on disk is the final mirror.
	saved, err = LoadMirror(state)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Cursor() != c.m.Cursor() || !reflect.DeepEqual(saved.Entities(), c.m.Entities()) {
		t.Error("the state file differs from the mirror the consumer stopped with")
	}
}
