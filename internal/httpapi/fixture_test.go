package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

const (
	testLocationID     = "0b9a6a0e-6f7e-4c53-9a53-3c7a4c2d9e01"
	testLocationTarget = "https://example.com/acme/catalog-info.yaml"
	// generatedComponents is how many library components the fixture adds to the
	// three of testdata/catalog.yaml.
	generatedComponents = 25
	// componentCount and entityCount are what the fixture holds: the YAML's eight
	// entities, the generated components and the Location entity the
	// registration generates.
	componentCount = 3 + generatedComponents
	entityCount    = 8 + generatedComponents + 1
)

// testGuest is who the tests' requests without a token act as: the guest
// of backlot dev on loopback, in the platform and auditors groups, so every
// permission the default policy gives those groups is granted.
var testGuest = auth.Principal{Ref: DefaultActor, Groups: []string{"group:default/platform", "group:default/auditors"}}

// fixture is a server over a real read model filled with the test catalog: the
// SQLite one, or the PostgreSQL one when BACKLOT_TEST_STORE=postgres (make test
// runs this package both ways).
type fixture struct {
	store  catalogstore.Store
	writer *fakeWriter
	srv    *httptest.Server
	uids   map[string]string // entity key → uid
}

// newFixture fills a fresh store and serves it; configure adjusts the Config.
func newFixture(t testing.TB, configure ...func(*Config)) *fixture {
	t.Helper()
	store := openStore(t)
	f := &fixture{store: store, writer: &fakeWriter{}, uids: map[string]string{}}
	f.load(t)
	cfg := Config{Reader: store, Writer: f.writer, Logger: slog.New(slog.DiscardHandler), Guest: &testGuest}
	for _, c := range configure {
		c(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// openStore opens an empty read model of the kind BACKLOT_TEST_STORE names.
func openStore(t testing.TB) catalogstore.Store {
	t.Helper()
	return openStoreLag(t, catalogstore.LagOptions{})
}

// openStoreLag opens an empty read model of the kind BACKLOT_TEST_STORE
// names, whose count and facet cache has lag.
func openStoreLag(t testing.TB, lag catalogstore.LagOptions) catalogstore.Store {
	t.Helper()
	var (
		store catalogstore.Store
		err   error
	)
	switch kind := os.Getenv("BACKLOT_TEST_STORE"); kind {
	case "", "sqlite":
		store, err = sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{Lag: lag})
	case "postgres":
		store, err = pgcatalog.Open(context.Background(), pgtest.URL(t), pgcatalog.Options{Lag: lag})
	default:
		t.Fatalf("BACKLOT_TEST_STORE=%q: want sqlite or postgres", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// load applies the registration of the test location, its entities and one
// recorded processing error.
func (f *fixture) load(t testing.TB) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= generatedComponents; i++ {
		raw = append(raw, fmt.Sprintf(`
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-%02d
spec:
  type: library
  lifecycle: production
  owner: team-b
`, i)...)
	}
	docs, err := catalog.ParseDocuments(testLocationTarget, raw, catalog.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	managedBy := "url:" + testLocationTarget
	var events []event.Envelope
	add := func(t testing.TB, typ event.Type, subject string, data any) {
		t.Helper()
		ev, err := event.New(typ, subject, data, event.Meta{Actor: "user:default/test"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(len(events) + 1)
		events = append(events, ev)
	}
	locRef := catalog.GeneratedLocationRef("url", testLocationTarget)
	add(t, event.TypeLocationRegistered, locRef.Key(), event.LocationRegistered{
		ID: testLocationID, Type: "url", Target: testLocationTarget, EntityRef: locRef.String()})
	f.uids[locRef.Key()] = testLocationID
	for _, d := range docs {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		ent, err := catalog.NewEntity(d.Body)
		if err != nil {
			t.Fatal(err)
		}
		uid := event.NewID()
		f.uids[ent.Ref().Key()] = uid
		add(t, event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
			Ref: ent.Ref().String(), UID: uid, Hash: catalog.HashJSON(ent.JSON()), Entity: ent.JSON(),
			LocationID: testLocationID, ManagedBy: managedBy, OriginLocation: managedBy})
	}
	add(t, event.TypeProcessingErrorRecorded, locRef.Key(), event.ProcessingErrorRecorded{
		LocationID: testLocationID,
		Errors: []event.ProcessingError{{File: testLocationTarget, Document: 9, Entity: "component:default/broken",
			Field: "spec.owner", Name: "InputError", Message: "is required"}},
	})
	if err := f.store.Apply(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

// url returns the server URL of a path under /api/catalog.
func (f *fixture) url(path string) string { return f.srv.URL + catalogPrefix + path }

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with an optional JSON body to the fixture's server.
func (f *fixture) call(t *testing.T, method, path, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// get is call with GET.
func (f *fixture) get(t *testing.T, path string) response {
	t.Helper()
	return f.call(t, http.MethodGet, path, "")
}

// mustStatus fails unless the answer has the status.
func (r response) mustStatus(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// decode unmarshals the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorOf returns the name and message of a Backstage error body, checking its shape.
func (r response) errorOf(t *testing.T) (string, string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q, want application/json", ct)
	}
	var b errorBody
	r.decode(t, &b)
	if b.Response.StatusCode != r.status {
		t.Errorf("response.statusCode %d, want %d", b.Response.StatusCode, r.status)
	}
	if b.Request.Method == "" || !strings.HasPrefix(b.Request.URL, "/") {
		t.Errorf("request part of error body incomplete: %s", r.body)
	}
	return b.Error.Name, b.Error.Message
}

// refOf names an entity as kind:namespace/name in lower case.
func refOf(e map[string]any) string {
	md, _ := e["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(fmt.Sprintf("%v:%s/%v", e["kind"], ns, md["name"]))
}

// refsOf returns the sorted refs of the entities in a JSON array.
func refsOf(t *testing.T, body []byte) []string {
	t.Helper()
	var items []map[string]any
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	refs := make([]string, len(items))
	for i, e := range items {
		refs[i] = refOf(e)
	}
	sort.Strings(refs)
	return refs
}

// namesOf returns metadata.name of each entity, in order.
func namesOf(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, e := range items {
		md, _ := e["metadata"].(map[string]any)
		out[i], _ = md["name"].(string)
	}
	return out
}

// componentNames returns the fixture's component names, sorted.
func componentNames() []string {
	names := []string{"billing", "checkout", "frontend"}
	for i := 1; i <= generatedComponents; i++ {
		names = append(names, fmt.Sprintf("svc-%02d", i))
	}
	sort.Strings(names)
	return names
}

// writerCall is one call the fakeWriter received.
type writerCall struct {
	Method string
	Actor  string
	Args   []string
}

// fakeWriter records calls and answers with its configured results.
type fakeWriter struct {
	mu       sync.Mutex
	calls    []writerCall
	err      error // returned by every method when set
	register catalogsvc.LocationResult
}

func (w *fakeWriter) record(method, actor string, args ...string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, writerCall{Method: method, Actor: actor, Args: args})
	return w.err
}

func (w *fakeWriter) setErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
}

// lastCall returns the last call received.
func (w *fakeWriter) lastCall(t *testing.T) writerCall {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.calls) == 0 {
		t.Fatal("the writer was not called")
	}
	return w.calls[len(w.calls)-1]
}

func (w *fakeWriter) RegisterLocation(ctx context.Context, actor, locType, target string, dryRun bool) (catalogsvc.LocationResult, error) {
	if err := w.record("RegisterLocation", actor, locType, target, fmt.Sprint(dryRun)); err != nil {
		return catalogsvc.LocationResult{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	res := w.register
	if res.Location.ID == "" {
		res.Location = catalogstore.Location{ID: "new-location", Type: locType, Target: target}
		res.Entities = []json.RawMessage{json.RawMessage(`{"kind":"Component","metadata":{"name":"from-location"}}`)}
	}
	return res, nil
}

func (w *fakeWriter) RemoveLocation(ctx context.Context, actor, id string) error {
	return w.record("RemoveLocation", actor, id)
}

func (w *fakeWriter) DeleteEntityByUID(ctx context.Context, actor, uid string) error {
	return w.record("DeleteEntityByUID", actor, uid)
}

func (w *fakeWriter) Refresh(ctx context.Context, actor, entityRef string) error {
	return w.record("Refresh", actor, entityRef)
}

// ValidateEntity validates with the domain's rules, as the real writer does.
func (w *fakeWriter) ValidateEntity(ctx context.Context, location string, entity map[string]any) error {
	if err := w.record("ValidateEntity", "", location); err != nil {
		return err
	}
	_, err := catalog.NewEntity(entity)
	return err
}

// jsonEqual fails unless got and want are the same JSON value.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("decode want %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}
}
