package app_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// servedOnlyByServe are what serve with every role serves and dev does not,
// each with its reason.
var servedOnlyByServe = map[string]string{
	// The compacted state topic is a Kafka topic; the embedded log has none.
	"state-feed": "handler",
}

// TestDevServesWhatServeServes builds every role in both modes on one catalog
// (a file location and a url location, each a repository's descriptor) and
// checks that they serve the same: the same roles, routes, handlers, task
// queues and runners (but for servedOnlyByServe), and the same answers where
// the two wirings once drifted apart: url catalogs registered as url
// locations, repository facts collected, the evaluator's work reported, the
// local git host served without Temporal.
func TestDevServesWhatServeServes(t *testing.T) {
	root := t.TempDir()
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, root, map[string]string{
		"payments/catalog-info.yaml": component("payments", "production"),
		"payments/README.md":         "# payments\n",
		"payments/CODEOWNERS":        "* @team-a\n",
	})
	repo := filepath.Join(root, "repo")
	writeFiles(t, repo, map[string]string{
		"services/ledger/catalog-info.yaml": component("ledger", "production"),
		"services/ledger/README.md":         "# ledger\n",
	})
	git(t, repo, "Ada|ada@example.com", "init", "-q", "-b", "main")
	git(t, repo, "Ada|ada@example.com", "add", ".")
	git(t, repo, "Ada|ada@example.com", "commit", "-q", "-m", "ledger")
	catalogs := []string{
		filepath.Join(examples, "test-certification.yaml"),
		filepath.Join(root, "payments", "catalog-info.yaml"),
		"file://" + repo + "?ref=main&path=services/ledger/catalog-info.yaml",
	}
	roots := []string{root, examples}

	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Catalogs: catalogs, Roots: roots})
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: catalogs, Roots: roots})
	defer d.Close()

	dm, sm := d.Manifest(), s.Manifest()
	if len(dm.Routes) < 40 || len(dm.Runners) < 5 || !slices.Contains(dm.Roles, app.RoleAPI) {
		t.Fatalf("dev's manifest lists too little: %+v", dm)
	}
	for name, kind := range servedOnlyByServe {
		if kind == "handler" {
			if !slices.Contains(sm.Handlers, name) {
				t.Errorf("serve runs no %s handler: %v", name, sm.Handlers)
			}
			sm.Handlers = slices.DeleteFunc(sm.Handlers, func(h string) bool { return h == name })
		}
	}
	for _, c := range []struct {
		what     string
		dev, srv []string
	}{
		{"roles", dm.Roles, sm.Roles},
		{"routes", dm.Routes, sm.Routes},
		{"handlers", dm.Handlers, sm.Handlers},
		{"task queues", dm.TaskQueues, sm.TaskQueues},
		{"runners", dm.Runners, sm.Runners},
	} {
		if !slices.Equal(c.dev, c.srv) {
			t.Errorf("%s differ:\n dev   %v\n serve %v", c.what, c.dev, c.srv)
		}
	}

	for name, srv := range map[string]addrer{"dev": d, "serve": s} {
		// Every route the manifest lists is a route of the server.
		checkRoutesExist(t, name, srv, dm.Routes)
		// A url catalog is a url location in both modes.
		var locs []struct {
			Data struct{ Type, Target string }
		}
		if code := get(t, srv, "/api/catalog/locations", &locs); code != http.StatusOK {
			t.Fatalf("%s: GET /locations: %d", name, code)
		}
		types := map[string]string{}
		for _, l := range locs {
			types[l.Data.Target] = l.Data.Type
		}
		if types[catalogs[2]] != "url" || types[catalogs[1]] != "file" {
			t.Errorf("%s: location types %v, want the file:// catalog a url location", name, types)
		}
		// Repository facts are collected in both modes: of a folder and of a
		// git commit.
		for _, ref := range []string{"component/default/payments", "component/default/ledger"} {
			if f := waitRepoFacts(t, srv, ref); f["readme"] != true {
				t.Errorf("%s: repo facts of %s: %v", name, ref, f)
			}
		}
		// The evaluator's work shows in the policies.
		var pol struct {
			Evaluator *struct{ Evaluations int64 } `json:"evaluator"`
		}
		if code := get(t, srv, "/api/policies", &pol); code != http.StatusOK || pol.Evaluator == nil {
			t.Errorf("%s: GET /api/policies: %d, evaluator %v", name, code, pol.Evaluator)
		}
		// Every area the manifest lists answers: no 501 (no such service
		// here) and no 503 (no workflows) but for the workflow routes.
		for _, p := range []string{
			"/api/catalog/entities?filter=kind=component",
			"/api/catalog/entities?asOf=" + time.Now().UTC().Format(time.RFC3339Nano),
			"/api/audit/events?limit=1",
			"/api/audit/entities/component/default/payments/history",
			"/api/events?limit=1&wait=0",
			"/api/events/subscriptions",
			"/api/policies/entities/component/default/payments",
			"/api/facts/entities/component/default/payments",
			"/api/git/repos",
			"/readyz",
			"/metrics",
		} {
			code, body := status(t, http.MethodGet, "http://"+srv.Addr()+p, nil)
			if code != http.StatusOK {
				t.Errorf("%s: GET %s: %d %s", name, p, code, body)
			}
		}
	}
}

// checkRoutesExist requests each route pattern of routes (the manifest's
// entries that are not routes, such as headers, are passed over) with "x" for
// every path parameter, and fails for each one the server has no route for
// (its catch-all answers "No route for"). Streams are read only to their
// first bytes.
func checkRoutesExist(t *testing.T, name string, srv addrer, routes []string) {
	t.Helper()
	n := 0
	for _, r := range routes {
		method, path, ok := strings.Cut(r, " ")
		if !ok || strings.ToUpper(method) != method || !strings.HasPrefix(path, "/") || strings.Contains(path, "#") {
			continue
		}
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "x" + path[j+1:]
		}
		if strings.HasSuffix(path, "?asOf") {
			path += "=2020-01-01T00:00:00Z"
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+srv.Addr()+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s: %s %s: %v", name, method, path, err)
		}
		body := make([]byte, 512)
		k, _ := io.ReadFull(resp.Body, body)
		resp.Body.Close()
		cancel()
		if strings.Contains(string(body[:k]), "No route for") || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: the manifest lists %q, the server has no such route: %d %s", name, r, resp.StatusCode, body[:k])
		}
		n++
	}
	if n < 40 {
		t.Fatalf("%s: only %d routes requested", name, n)
	}
}

// waitRepoFacts waits for the repo facts of the entity (kind/namespace/name)
// and returns them.
func waitRepoFacts(t *testing.T, srv addrer, ref string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out struct {
			Items []struct {
				Source string
				Facts  map[string]any
			}
		}
		get(t, srv, "/api/facts/entities/"+ref, &out)
		for _, f := range out.Items {
			if f.Source == "repo" {
				return f.Facts
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no repo facts of %s within 60s: %+v", ref, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDevRegistersURLCatalogsAsURLLocations starts dev with a url catalog (a
// git repository): it is read through git as a url location, as serve reads it,
// where dev once took every catalog for a file.
func TestDevRegistersURLCatalogsAsURLLocations(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	writeFiles(t, repo, map[string]string{"catalog-info.yaml": component("orders", "production")})
	git(t, repo, "Ada|ada@example.com", "init", "-q", "-b", "main")
	git(t, repo, "Ada|ada@example.com", "add", ".")
	git(t, repo, "Ada|ada@example.com", "commit", "-q", "-m", "orders")
	target := "file://" + repo + "?ref=main&path=catalog-info.yaml"
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{target}, Roots: []string{root}})
	defer d.Close()
	var ents []map[string]any
	if code := get(t, d, "/api/catalog/entities?filter=metadata.name=orders", &ents); code != http.StatusOK || len(ents) != 1 {
		t.Fatalf("orders from the url catalog: %d, %d entities", code, len(ents))
	}
	md := ents[0]["metadata"].(map[string]any)
	if got := md["annotations"].(map[string]any)["backstage.io/managed-by-location"]; !strings.HasPrefix(got.(string), "url:") {
		t.Fatalf("managed-by-location %v, want url:%s", got, target)
	}
}
