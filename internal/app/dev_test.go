package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startDev starts a dev server on a free port and waits for its catalogs.
func startDev(t *testing.T, cfg app.DevConfig) *app.Dev {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = quietLogger()
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = time.Hour
	}
	d, err := app.StartDev(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
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

func get(t *testing.T, d addrer, path string, v any) int {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func post(t *testing.T, d addrer, path string, body any, v any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post("http://"+d.Addr()+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("POST %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func dump(t *testing.T, dataDir string) string {
	t.Helper()
	return storetest.SQLiteTables(t, filepath.Join(dataDir, "catalog.db"))
}

// historyDump renders the history read model of a data folder.
func historyDump(t *testing.T, dataDir string) string {
	t.Helper()
	h, err := sqlitehist.Open(filepath.Join(dataDir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	return histtest.Dump(t, h)
}

// foldedHistory folds a data folder's log into a fresh history and renders it.
func foldedHistory(t *testing.T, dataDir string) string {
	t.Helper()
	log, err := sqlitelog.Open(filepath.Join(dataDir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	h, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	evs, err := log.Read(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return histtest.Dump(t, h)
}

func examplesCatalog(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../examples/catalog/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDevServesExampleCatalogAndSurvivesRestartAndRebuild(t *testing.T) {
	data := t.TempDir()
	cat := examplesCatalog(t)
	d := startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{cat}})

	want, err := os.ReadFile("../../examples/catalog/entities.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := strings.Fields(string(want))
	var ents []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name, Namespace string
		} `json:"metadata"`
	}
	get(t, d, "/api/catalog/entities", &ents)
	got := map[string]bool{}
	for _, e := range ents {
		got[strings.ToLower(e.Kind+":"+e.Metadata.Namespace+"/"+e.Metadata.Name)] = true
	}
	for _, r := range wantRefs {
		if !got[r] {
			t.Errorf("example entity %s is not served", r)
		}
	}
	// The example entities, plus the generated Location of the registration.
	if len(ents) != len(wantRefs)+1 {
		t.Errorf("served %d entities, want %d", len(ents), len(wantRefs)+1)
	}
	before := dump(t, data)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same data folder: the catalog is refreshed, nothing doubled.
	d = startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{cat}})
	var locs []map[string]any
	get(t, d, "/api/catalog/locations", &locs)
	if len(locs) != 1 {
		t.Fatalf("after restart %d locations, want 1: %v", len(locs), locs)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, data); after != before {
		t.Fatalf("read model changed across a restart:\n%s", firstDiff(before, after))
	}

	// Rebuild from the log: identical read models.
	if _, err := rebuild.Catalog(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dump(t, data); rebuilt != before {
		t.Fatalf("rebuilt read model differs:\n%s", firstDiff(before, rebuilt))
	}
	if h, want := historyDump(t, data), foldedHistory(t, data); h != want || !strings.Contains(h, "tracking-service") {
		t.Fatalf("rebuilt history differs from a fold of the log:\n%s", firstDiff(want, h))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}

const brokenFile = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: first
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: third
spec:
  type: website
  lifecycle: production
  owner: team-a
`

func TestBrokenDocumentIsReportedAndOthersStay(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(brokenFile, "second")), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir}})
	defer d.Close()
	var reg struct {
		Location struct{ ID string } `json:"location"`
	}
	if code := post(t, d, "/api/catalog/locations", map[string]string{"type": "file", "target": file}, &reg); code != 201 {
		t.Fatalf("register: %d", code)
	}
	// Break the second document: the name is invalid now.
	if err := os.WriteFile(file, []byte(fmt.Sprintf(brokenFile, "not a valid name!")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := post(t, d, "/api/catalog/refresh", map[string]string{"entityRef": "component:default/first"}, nil); code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	for _, name := range []string{"first", "second", "third"} {
		if code := get(t, d, "/api/catalog/entities/by-name/component/default/"+name, nil); code != 200 {
			t.Errorf("component %s: status %d after a broken document; it must stay", name, code)
		}
	}
	var loc struct {
		Errors []struct {
			File     string `json:"file"`
			Document int    `json:"document"`
			Field    string `json:"field"`
			Message  string `json:"message"`
		} `json:"errors"`
	}
	get(t, d, "/api/catalog/locations/"+reg.Location.ID, &loc)
	if len(loc.Errors) != 1 {
		t.Fatalf("want one processing error on the location, got %+v", loc.Errors)
	}
	e := loc.Errors[0]
	if !strings.Contains(e.File, "catalog-info.yaml") || e.Document != 1 || e.Field != "metadata.name" {
		t.Fatalf("error does not name file, document 1 and metadata.name: %+v", e)
	}
}

// TestWritesCarryTheAuthenticatedPrincipal turns authentication on: a write
// without a token is refused, and the events of a write with one name its
// principal as their actor.
func TestWritesCarryTheAuthenticatedPrincipal(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	// ada is in the platform group, which registers locations.
	os.WriteFile(tokens, []byte("ada-0123456789abcdef user:default/ada platform\n"), 0o600)
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: audited\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"), 0o644)
	data := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: data, Roots: []string{dir}, AuthTokens: tokens})
	defer d.Close()
	body := strings.NewReader(`{"type":"file","target":"` + file + `"}`)
	resp, err := http.Post("http://"+d.Addr()+"/api/catalog/locations", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("write without a token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", "http://"+d.Addr()+"/api/catalog/locations", strings.NewReader(`{"type":"file","target":"`+file+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ada-0123456789abcdef")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("write with a token: %d", resp.StatusCode)
	}
	log, err := sqlitelog.Open(filepath.Join(data, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	evs, err := log.Read(context.Background(), 0, 100)
	if err != nil || len(evs) == 0 {
		t.Fatalf("log: %d events, %v", len(evs), err)
	}
	found := false
	for _, ev := range evs {
		if ev.Type == "backlot.location.registered.v1" {
			found = true
			if ev.Actor != "user:default/ada" {
				t.Fatalf("registration event's actor is %q, want user:default/ada", ev.Actor)
			}
		}
	}
	if !found {
		t.Fatal("no registration event in the log")
	}
	// Reads need a principal too; a hashed line of the file is as good.
	get := func(token string) int {
		req, _ := http.NewRequest("GET", "http://"+d.Addr()+"/api/catalog/entities?limit=1", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Fatalf("read without a token: %d, want 401", code)
	}
	if code := get("ada-0123456789abcdef"); code != http.StatusOK {
		t.Fatalf("read with a token: %d", code)
	}
}

// TestHashedTokensAuthenticateReads loads a token file of hashed lines with
// groups: reads need one of its tokens, health stays open.
func TestHashedTokensAuthenticateReads(t *testing.T) {
	line, err := auth.HashLine("ci-0123456789abcdef", "service:ci", "platform")
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte(line+"\n"), 0o600)
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), AuthTokens: tokens})
	defer d.Close()
	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", "http://"+d.Addr()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string]int{"/api/catalog/entities": http.StatusUnauthorized, "/api/events": http.StatusUnauthorized, "/healthz": http.StatusOK} {
		if code := get(path, ""); code != want {
			t.Errorf("GET %s without a token: %d, want %d", path, code, want)
		}
	}
	if code := get("/api/catalog/entities", "ci-0123456789abcdef"); code != http.StatusOK {
		t.Errorf("read with the hashed line's token: %d", code)
	}
	if code := get("/api/catalog/entities", strings.TrimPrefix(strings.Fields(line)[0], "sha256:")); code != http.StatusUnauthorized {
		t.Errorf("read with the hash as token: %d", code)
	}
}

// TestClearTokensAreLoadedWithAWarning: a token file of the older TOKEN
// PRINCIPAL lines still authenticates, and the start logs a warning that
// recommends the hashed form.
func TestClearTokensAreLoadedWithAWarning(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte("ada-0123456789abcdef user:default/ada\n"), 0o600)
	var logs bytes.Buffer
	d, err := app.StartDev(context.Background(), app.DevConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AuthTokens: tokens,
		RefreshInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !strings.Contains(logs.String(), "tokens in clear") || !strings.Contains(logs.String(), "hash-token") || !strings.Contains(logs.String(), tokens) {
		t.Fatalf("no warning naming the file and hash-token: %s", logs.String())
	}
	req, _ := http.NewRequest("GET", "http://"+d.Addr()+"/api/catalog/entities", nil)
	req.Header.Set("Authorization", "Bearer ada-0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read with a clear token: %d", resp.StatusCode)
	}
}

// TestEditedFileIsReadWithoutARefresh edits a registered file and expects the
// change readable with no refresh asked for and the periodic refresh an hour
// away: the ingester watches the folders of file locations.
func TestEditedFileIsReadWithoutARefresh(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(brokenFile, "second")), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir}, Catalogs: []string{file}})
	defer d.Close()
	if !slices.Contains(d.Manifest().Runners, "ingester:watch") {
		t.Fatalf("dev runs no file watch: %v", d.Manifest().Runners)
	}
	if code := get(t, d, "/api/catalog/entities/by-name/component/default/second", nil); code != 200 {
		t.Fatalf("component second: status %d", code)
	}
	if err := os.WriteFile(file, []byte(fmt.Sprintf(brokenFile, "renamed")), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for get(t, d, "/api/catalog/entities/by-name/component/default/renamed", nil) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the edited file's new entity is not readable 30 s after the edit, with no refresh asked for")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := get(t, d, "/api/catalog/entities/by-name/component/default/second", nil); code != 404 {
		t.Fatalf("the entity the edit removed: status %d, want 404", code)
	}
}
