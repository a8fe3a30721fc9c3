//go:build golden_record

package golden

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/temporalsrv"
)

var (
	releaseFlag = flag.String("release", "v1", "the release folder under testdata to record into")
	overwrite   = flag.Bool("overwrite", false, "replace an existing release folder (only one never committed)")
)

// recordRoot is where the recording runs: a fixed folder, so the paths the
// log names (file locations, the local git host) are the same in every
// release's recording and a diff between two releases shows only real changes.
const recordRoot = "/tmp/backlot-golden"

// TestRecord runs the example catalog's life in `backlot dev` (in this
// process, with the embedded Temporal server and its worker) and writes the
// event log it produced and the read models that log folds to:
//
//	go test -tags golden_record -run TestRecord ./internal/golden -args -release v2
//
// The build tag is the opt-in: without it this file is not compiled, so the
// normal test run never records.
//
// The life: the example catalog, both example policies and the go-service
// template registered; a descriptor edited (an owner and a description
// changed) and an entity removed from its file; a second location registered
// with a broken document, mended, then deleted; a fact source declared and
// facts reported that award badges and revoke one; the template run to a new
// registered component; the example migration run to its merged change.
func TestRecord(t *testing.T) {
	out := filepath.Join("testdata", *releaseFlag)
	if _, err := os.Stat(out); err == nil && !*overwrite {
		t.Fatalf("%s exists: a committed golden log is never rewritten (a new event version gets a new release folder)", out)
	}
	ctx := context.Background()
	if err := os.RemoveAll(recordRoot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(recordRoot) })
	catalogDir := filepath.Join(recordRoot, "catalog")
	copyTree(t, "../../examples/catalog", catalogDir)
	copyTree(t, "../../examples/policies", filepath.Join(recordRoot, "policies"))
	copyTree(t, "../../examples/templates/go-service", filepath.Join(recordRoot, "templates", "go-service"))
	data := filepath.Join(recordRoot, "data")

	d, err := app.StartDev(ctx, app.DevConfig{
		DataDir: data,
		Addr:    "127.0.0.1:0",
		Catalogs: []string{
			filepath.Join(catalogDir, "all.yaml"),
			filepath.Join(recordRoot, "policies", "test-certification.yaml"),
			filepath.Join(recordRoot, "policies", "production-readiness.yaml"),
			filepath.Join(recordRoot, "templates", "go-service", "template.yaml"),
		},
		RefreshInterval: time.Hour,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Temporal: func(ctx context.Context, db, addr string) (string, func() error, error) {
			s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: addr})
			if err != nil {
				return "", nil, err
			}
			return s.Addr(), s.Stop, nil
		},
		TemporalAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	select {
	case <-d.Loaded():
	case <-time.After(2 * time.Minute):
		t.Fatal("catalogs not loaded in 2 minutes")
	}
	if err := d.LoadErr(); err != nil {
		t.Fatal(err)
	}
	api := client{t: t, base: "http://" + d.Addr()}
	waitBadges(t, d)

	// An edit: tracking-service changes owner and description and gains an
	// on-call annotation and a runbook link (production-readiness awards it
	// "ready"); and a removal: legacy-tracking-page leaves components.yaml.
	components := filepath.Join(catalogDir, "components.yaml")
	editFile(t, components, func(s string) string {
		s = strings.Replace(s, "  owner: tracking-team\n  system: parcel-tracking\n  providesApis:\n    - tracking-graphql",
			"  owner: fleet-team\n  system: parcel-tracking\n  providesApis:\n    - tracking-graphql", 1)
		s = strings.Replace(s, "Keeps the current state and history of every parcel and serves it over GraphQL.",
			"Keeps every parcel's state and history; serves them over GraphQL.", 1)
		s = strings.Replace(s, "    github.com/project-slug: northwind-parcel/tracking-service\n",
			"    github.com/project-slug: northwind-parcel/tracking-service\n    pagerduty.com/service-id: PTRACK1\n", 1)
		s = strings.Replace(s, "    - url: https://grafana.northwind-parcel.example/d/tracking\n      title: Dashboard\n      icon: dashboard\n",
			"    - url: https://grafana.northwind-parcel.example/d/tracking\n      title: Dashboard\n      icon: dashboard\n"+runbookLink, 1)
		i := strings.Index(s, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: legacy-tracking-page\n")
		j := strings.Index(s[i:], "\n---\n")
		if i < 0 || j < 0 {
			t.Fatal("components.yaml: legacy-tracking-page not found")
		}
		return s[:i] + s[i+j+len("\n---\n"):]
	})
	api.do("POST", "/api/catalog/refresh", map[string]string{"entityRef": "component:default/tracking-service"}, http.StatusOK, nil)
	waitBadges(t, d)

	// A second location: one good entity and one broken document; then the
	// document mended (and a template it holds refused to the guest); then the
	// location deleted with its entities.
	extra := filepath.Join(catalogDir, "extra.yaml")
	os.WriteFile(extra, []byte(extraBroken), 0o644)
	var reg struct {
		Location struct {
			ID string `json:"id"`
		} `json:"location"`
	}
	api.do("POST", "/api/catalog/locations", map[string]string{"type": "file", "target": extra}, http.StatusCreated, &reg)
	if reg.Location.ID == "" {
		t.Fatal("no location id in the registration's answer")
	}
	os.WriteFile(extra, []byte(extraMended), 0o644)
	api.do("POST", "/api/catalog/refresh", map[string]string{"entityRef": "component:default/golden-extra"}, http.StatusOK, nil)
	waitBadges(t, d)
	// A template restricted to tracking-team: the permission policy refuses
	// the guest, who is not in it, and records the denial.
	api.do("POST", "/api/scaffolder/v2/tasks", map[string]any{"templateRef": "template:default/golden-restricted", "values": map[string]any{}},
		http.StatusForbidden, nil)
	waitEvent(t, api, event.PrincipalSubject(app.DevActor), event.TypePermissionDenied, `"scaffolder.task.create"`)
	api.do("DELETE", "/api/catalog/locations/"+reg.Location.ID, nil, http.StatusNoContent, nil)
	waitBadges(t, d)

	// Facts: a declared source, then reports that turn tracking-service's
	// coverage check green and red again; between them the runbook link goes
	// and "ready" is revoked.
	api.do("PUT", "/api/facts/sources/ci", json.RawMessage(`{"schema": {"type": "object",
		"properties": {"coverage": {"type": "number", "minimum": 0, "maximum": 100}, "mainBranchPassing": {"type": "boolean"}}}}`), http.StatusOK, nil)
	observed := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	facts := func(body string) {
		api.do("POST", "/api/facts", map[string]any{"items": []map[string]any{{
			"entity": "component:default/tracking-service", "source": "ci", "facts": json.RawMessage(body), "observedAt": observed}}}, http.StatusOK, nil)
		observed = observed.Add(time.Hour)
		waitBadges(t, d)
	}
	facts(`{"coverage": 91.5, "mainBranchPassing": true}`)
	editFile(t, components, func(s string) string { return strings.Replace(s, runbookLink, "", 1) })
	api.do("POST", "/api/catalog/refresh", map[string]string{"entityRef": "component:default/tracking-service"}, http.StatusOK, nil)
	waitBadges(t, d)
	facts(`{"coverage": 62, "mainBranchPassing": false}`)

	// The golden path: the go-service template run to a registered component.
	var task struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/scaffolder/v2/tasks", map[string]any{"templateRef": "template:default/go-service", "values": map[string]any{
		"name": "parcel-notifier", "description": "Tells recipients where their parcel is.", "owner": "group:default/tracking-team",
		"system": "parcel-tracking", "repoUrl": "local?owner=tracking-team&repo=parcel-notifier"}}, http.StatusCreated, &task)
	waitState(t, api, "/api/scaffolder/v2/tasks/"+task.ID, "status", "completed", "failed", "cancelled")
	waitEvent(t, api, event.TaskSubject(task.ID), event.TypeTaskFinished, `"status":"completed"`)
	waitBadges(t, d)

	// A fleet migration: the example spec, CODEOWNERS in every service's
	// repository (the one the scaffolder created), merged.
	spec, err := os.ReadFile("../../examples/migrations/add-codeowners.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var mig struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/migrations", spec, http.StatusCreated, &mig) // the spec as YAML, as the API takes it
	waitState(t, api, "/api/migrations/"+mig.ID, "state", "completed", "stopped", "cancelled")
	waitEvent(t, api, event.MigrationSubject(mig.ID), event.TypeMigrationChanged, `"state":"completed"`)
	waitBadges(t, d)

	closed = true
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// The log as the server stored it, to its end (the roles write until
	// they stop).
	lg, err := sqlitelog.Open(filepath.Join(data, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var events []event.Envelope
	for {
		page, err := lg.Read(ctx, int64(len(events)), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		events = append(events, page...)
	}
	head, err := lg.Head(ctx)
	lg.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[len(events)-1].Position != head || int64(len(events)) != head {
		t.Fatalf("read %d events, the head is %d", len(events), head)
	}
	if err := CheckPayloads(events); err != nil {
		t.Fatal(err)
	}

	// The read models the log folds to, from a fresh replay; the server's own
	// read models (caught up with the log's tail, as a restart would) must
	// be the same.
	fresh := openSQLite(t, t.TempDir())
	if err := Replay(ctx, events, 0, fresh.targets); err != nil {
		t.Fatal(err)
	}
	dumps, err := Dump(ctx, fresh.Readers, events)
	if err != nil {
		t.Fatal(err)
	}
	live := openSQLite(t, data)
	if err := catchUp(ctx, live, events); err != nil {
		t.Fatal(err)
	}
	liveDumps, err := Dump(ctx, live.Readers, events)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range dumps.Files() {
		if diffs, err := DiffNamed(want, liveDumps.Files()[name], "replayed", "server"); err != nil || len(diffs) > 0 {
			t.Errorf("%s: the server's read model differs from a replay of its log (%v):\n%s", name, err, strings.Join(diffs, "\n"))
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteLog(&buf, events); err != nil {
		t.Fatal(err)
	}
	files := dumps.Files()
	files[LogFile] = buf.Bytes()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	types := map[string]int{}
	for _, e := range events {
		types[e.Type]++
	}
	t.Logf("recorded %d events into %s (%d bytes of log)", len(events), out, buf.Len())
	for _, ty := range sortedKeys(types) {
		t.Logf("  %5d %s", types[ty], ty)
	}
}

// catchUp applies to each of the server's read models the events after the
// position it had reached when the server stopped.
func catchUp(ctx context.Context, m readModels, events []event.Envelope) error {
	type positioned interface {
		Positions(ctx context.Context) (event.Positions, error)
	}
	for name, target := range m.targets {
		p, ok := target.(positioned)
		if !ok {
			return fmt.Errorf("%s: no Positions", name)
		}
		pos, err := p.Positions(ctx)
		if err != nil {
			return err
		}
		var tail []event.Envelope
		for _, e := range events {
			if e.Position > pos[e.Partition] {
				tail = append(tail, e)
			}
		}
		if len(tail) > 0 {
			if err := Replay(ctx, tail, 0, map[string]Applier{name: target}); err != nil {
				return err
			}
		}
	}
	return nil
}

const runbookLink = "    - url: https://runbooks.northwind-parcel.example/tracking\n      title: Runbook\n"

const extraBroken = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: golden-extra
  description: A component registered on its own, then removed with its location.
spec:
  type: library
  lifecycle: experimental
  owner: platform-team
  system: developer-platform
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Golden_Broken!
spec:
  type: library
  lifecycle: experimental
  owner: platform-team
`

const extraMended = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: golden-extra
  description: A component registered on its own, then removed with its location.
spec:
  type: library
  lifecycle: experimental
  owner: platform-team
  system: developer-platform
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: golden-mended
spec:
  type: library
  lifecycle: experimental
  owner: platform-team
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: golden-restricted
  annotations:
    backlot.dev/allowed-groups: group:default/tracking-team
spec:
  type: service
  owner: platform-team
  steps: []
`

// client calls the dev server's API and fails the test on an unexpected status.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	var r io.Reader
	if raw, ok := body.([]byte); ok {
		r = bytes.NewReader(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// waitState polls path until its field is one of the final values; the
// first of them is the one wanted.
func waitState(t *testing.T, api client, path, field string, final ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var m map[string]any
		api.do("GET", path, nil, http.StatusOK, &m)
		s, _ := m[field].(string)
		for i, f := range final {
			if s == f {
				if i > 0 {
					b, _ := json.MarshalIndent(m, "", "  ")
					t.Fatalf("%s: %s %s: %s", path, field, s, b)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still %q after 3 minutes", path, field, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEvent polls the audit API until the log holds an event of the type
// about the subject whose data contains the text.
func waitEvent(t *testing.T, api client, subject string, typ event.Type, text string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var page struct {
			Items []Line `json:"items"`
		}
		api.do("GET", "/api/audit/events?subject="+url.QueryEscape(subject)+"&type="+url.QueryEscape(string(typ))+"&limit=100", nil, http.StatusOK, &page)
		for _, l := range page.Items {
			if strings.Contains(string(l.Event.Data), text) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event about %s with %s in the log after a minute", typ, subject, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitBadges(t *testing.T, d *app.Dev) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := d.WaitBadges(ctx); err != nil {
		t.Fatalf("badges not rated within a minute: %v", err)
	}
}

func editFile(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	after := edit(string(b))
	if after == string(b) {
		t.Fatalf("%s: the edit changed nothing", path)
	}
	if err := os.WriteFile(path, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
