package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// status answers the HTTP status of a request and its body.
func status(t *testing.T, method, url string, body any) (int, string) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// componentYAML is a component descriptor named NAME.
const componentYAML = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: NAME\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"

// postWithToken posts body and returns the status, body and positions header.
func postWithToken(t *testing.T, url string, body any) (int, string, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	sb.Write(buf[:n])
	return resp.StatusCode, sb.String(), resp.Header.Get(event.TokenHeader)
}

func totalEntities(t *testing.T, d addrer) int {
	t.Helper()
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	if code := get(t, d, "/api/catalog/entities/by-query?limit=1", &page); code != http.StatusOK {
		t.Fatalf("by-query: %d", code)
	}
	return page.TotalItems
}

// TestServeBrokerDownWritesAnswer503 stops the Kafka cluster under a running
// server: writes answer 503 with a reason and change nothing, reads go on from
// PostgreSQL, and the server reports not ready.
func TestServeBrokerDownWritesAnswer503(t *testing.T) {
	fake := kafkatest.StartFake(t)
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.yaml")
	if err := os.WriteFile(extra, []byte(strings.ReplaceAll(componentYAML, "NAME", "extra")), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, app.ServeConfig{KafkaBrokers: fake.ListenAddrs(), TopicPrefix: "down.", PostgresURL: pgtest.URL(t),
		Catalogs: []string{examplesCatalog(t)}, Roots: []string{dir}})
	// A write answers with the positions of its events; a read that sends them
	// back is served once the read model covers them.
	first := filepath.Join(dir, "first.yaml")
	if err := os.WriteFile(first, []byte(strings.ReplaceAll(componentYAML, "NAME", "first")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body, token := postWithToken(t, "http://"+s.Addr()+"/api/catalog/locations", map[string]string{"type": "file", "target": first})
	if code != http.StatusCreated || token == "" {
		t.Fatalf("register: %d %s, token %q", code, body, token)
	}
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/api/catalog/entities?limit=1", nil)
	req.Header.Set(event.TokenHeader, token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("read with the write's token: %v %v", resp, err)
	}
	before := totalEntities(t, s)
	if code, _ := status(t, "GET", "http://"+s.Addr()+"/readyz", nil); code != http.StatusOK {
		t.Fatalf("readyz %d before the broker went down", code)
	}
	fake.Close()

	start := time.Now()
	code, body = status(t, "POST", "http://"+s.Addr()+"/api/catalog/locations", map[string]string{"type": "file", "target": extra})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("register with the broker down: %d %s, want 503", code, body)
	}
	if !strings.Contains(strings.ToLower(body), "kafka") && !strings.Contains(body, "event log") {
		t.Fatalf("503 without a reason naming the event log: %s", body)
	}
	t.Logf("503 after %s: %s", time.Since(start).Round(time.Millisecond), body)
	if code, body := status(t, "GET", "http://"+s.Addr()+"/readyz", nil); code != http.StatusServiceUnavailable || !strings.Contains(strings.ToLower(body), "kafka") {
		t.Fatalf("readyz with the broker down: %d %s", code, body)
	}
	if after := totalEntities(t, s); after != before {
		t.Fatalf("entities %d after a failed write, %d before", after, before)
	}
	var locs []any
	get(t, s, "/api/catalog/locations", &locs)
	if len(locs) != 2 {
		t.Fatalf("%d locations after a failed registration, want 2", len(locs))
	}
}

// TestServeProjectorSurvivesPostgresRestart restarts PostgreSQL while the
// projector folds a stream of events: the server reports not ready meanwhile,
// the projector retries and catches up, and the read model equals a fold of
// the whole log into a fresh database: nothing lost, nothing applied twice.
func TestServeProjectorSurvivesPostgresRestart(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{Roles: []string{app.RoleAPI, app.RoleProjector}, KafkaBrokers: brokers, TopicPrefix: prefix,
		Group: prefix + "projector", PostgresURL: cluster.NewDatabase(t)})

	log, err := kafkalog.Open(t.Context(), kafkalog.Options{Brokers: brokers, TopicPrefix: prefix, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	const n = 6000
	evs, err := gen.ComponentUpserts(1, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	go func() {
		for i := 0; i < n; i += 200 {
			if _, err := log.Append(context.Background(), evs[i:i+200]); err != nil {
				appended <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		appended <- nil
	}()
	time.Sleep(300 * time.Millisecond)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	sawNotReady := false
	for range 100 {
		if code, _ := status(t, "GET", "http://"+s.Addr()+"/readyz", nil); code == http.StatusServiceUnavailable {
			sawNotReady = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawNotReady {
		t.Fatal("readyz never reported PostgreSQL down")
	}
	time.Sleep(2 * time.Second)
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	heads, err := log.Heads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, _ := status(t, "GET", "http://"+s.Addr()+"/readyz", nil)
		if code == http.StatusOK && totalEntities(t, s) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after PostgreSQL came back: readyz %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The read model the server folded, and a one-process fold of the same log.
	got := dumpPostgres(t, s, heads)
	fresh, err := pgcatalog.Open(t.Context(), cluster.NewDatabase(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := projector.New(log, fresh, projector.Options{Logger: quietLogger()}).CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	want, err := storetest.DumpReader(t.Context(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("read model after the restart differs from a fresh fold:\n%s", firstDiff(want, got))
	}
}

// dumpPostgres dumps the read model the server s reads, once it covers heads.
func dumpPostgres(t *testing.T, s *app.Server, heads event.Positions) string {
	t.Helper()
	store, err := pgcatalog.Open(t.Context(), s.PostgresURL(), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w := &projector.PollWaiter{Reader: store}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := w.WaitFor(ctx, heads); err != nil {
		t.Fatal(err)
	}
	d, err := storetest.DumpReader(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
