package githost_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/githost"
)

// TestLocalRepoForAndChange maps every form of a local repository's URL to
// the repository, refuses URLs outside the root, answers ErrNotFound for a
// missing repository, and reads a change request with its link and checks.
func TestLocalRepoForAndChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := githost.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.CreateRepo(ctx, "northwind", "ledger", "main", "")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write(t, src, map[string]string{"README.md": "# ledger\n"})
	if _, err := h.Publish(ctx, r, src, "init", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{r.RemoteURL, r.RemoteURL + "?ref=main", r.RemoteURL + "/tree/main/docs", r.RemoteURL + "/", r.ContentsURL() + "&path=catalog-info.yaml"} {
		got, err := h.RepoFor(ctx, u)
		if err != nil || got != r {
			t.Errorf("RepoFor(%q) = %+v, %v; want %+v", u, got, err, r)
		}
	}
	root := strings.TrimSuffix(strings.TrimPrefix(r.RemoteURL, "file://"), "/northwind/ledger.git")
	for _, u := range []string{"file:///etc/passwd", "file://" + root + "/../x/y.git", "file://" + root + "/northwind", "https://example.com/northwind/ledger", "file://" + root + "/a/b/c.git"} {
		if got, err := h.RepoFor(ctx, u); err == nil {
			t.Errorf("RepoFor(%q) = %+v, want an error", u, got)
		}
	}
	if _, err := h.RepoFor(ctx, "file://"+root+"/northwind/gone.git"); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing repository: %v", err)
	}

	pushBranch(t, r, "backlot/x", map[string]string{"x": "y"})
	c, err := h.OpenChange(ctx, r, "backlot/x", "X", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != r.RemoteURL+"#change/1" {
		t.Errorf("change URL %q", c.URL)
	}
	got, err := h.Change(ctx, r, c.Number)
	if err != nil || got.State != githost.ChangeOpen || got.Checks != githost.ChecksPassed || got.URL != c.URL || got.Head != c.Head {
		t.Errorf("change: %+v %v", got, err)
	}
	if _, err := h.Change(ctx, r, 2); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing change: %v", err)
	}
}

// TestGitHubRepoForAndChecks maps web, clone and SSH URLs of the GitHub
// host to the repository through the API, refuses other hosts, and reads a
// pull request's link and checks.
func TestGitHubRepoForAndChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, srv := newFakeGitHub(t)
	g := &githost.GitHub{BaseURL: srv.URL, Token: "t0ken", WebURL: "https://github.example", HTTP: loopbackClient}
	r, err := g.CreateRepo(ctx, "northwind", "ledger", "", "The ledger")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://github.example/northwind/ledger", "https://github.example/northwind/ledger.git",
		"https://github.example/northwind/ledger/tree/main/docs/", "git@github.example:northwind/ledger.git",
		"ssh://git@github.example/northwind/ledger.git", "https://github.example/northwind/ledger?tab=readme"} {
		got, err := g.RepoFor(ctx, u)
		if err != nil || got.Owner != "northwind" || got.Name != "ledger" || got.RemoteURL != r.RemoteURL {
			t.Errorf("RepoFor(%q) = %+v, %v", u, got, err)
		}
	}
	for _, u := range []string{"https://gitlab.example/northwind/ledger", "https://github.example/northwind", "https://github.example/a/b/c", "file:///x/y.git"} {
		if got, err := g.RepoFor(ctx, u); err == nil {
			t.Errorf("RepoFor(%q) = %+v, want an error", u, got)
		}
	}
	if _, err := g.RepoFor(ctx, "https://github.example/northwind/gone"); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing repository: %v", err)
	}
	if host := (&githost.GitHub{}).WebURL; host != "" {
		t.Fatal(host)
	}
	if _, err := (&githost.GitHub{BaseURL: srv.URL, HTTP: loopbackClient}).RepoFor(ctx, "https://github.com/northwind/ledger"); err == nil {
		t.Error("a github.com URL on an enterprise host")
	}

	c, err := g.OpenChange(ctx, r, "backlot/x", "X", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://github.example/northwind/ledger/pull/1" {
		t.Errorf("pull request URL %q", c.URL)
	}
	f.mu.Lock()
	f.checks[c.Head] = []map[string]any{{"status": "in_progress"}}
	f.mu.Unlock()
	for _, step := range []struct {
		runs []map[string]any
		want githost.ChecksState
	}{
		{[]map[string]any{{"status": "in_progress"}}, githost.ChecksPending},
		{[]map[string]any{{"status": "completed", "conclusion": "failure"}}, githost.ChecksFailed},
		{[]map[string]any{{"status": "completed", "conclusion": "success"}}, githost.ChecksPassed},
		{nil, githost.ChecksPassed},
	} {
		f.mu.Lock()
		f.checks[c.Head] = step.runs
		f.mu.Unlock()
		got, err := g.Change(ctx, r, c.Number)
		if err != nil || got.Checks != step.want || got.State != githost.ChangeOpen {
			t.Errorf("checks %v: %+v %v, want %s", step.runs, got, err, step.want)
		}
	}
	if _, err := g.Change(ctx, r, 7); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing pull request: %v", err)
	}
}

// TestGitLabRepoForAndPipeline maps URLs of nested groups to the project,
// and reads a merge request's link and pipeline.
func TestGitLabRepoForAndPipeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pipeline := map[string]any{"status": "running"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "northwind/payments/ledger" {
			http.Error(w, `{"message":"404 Project Not Found"}`, 404)
			return
		}
		w.Write([]byte(`{"path":"ledger","namespace":{"full_path":"northwind/payments"},"http_url_to_repo":"https://gitlab.example/northwind/payments/ledger.git","default_branch":"main"}`))
	})
	mux.HandleFunc("GET /api/v4/projects/{id}/merge_requests/{iid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("iid") != "3" {
			http.Error(w, `{"message":"404 Not found"}`, 404)
			return
		}
		writeJSON(w, map[string]any{"iid": 3, "state": "opened", "source_branch": "backlot/x", "sha": "abc",
			"web_url": "https://gitlab.example/northwind/payments/ledger/-/merge_requests/3", "head_pipeline": pipeline})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	g := &githost.GitLab{BaseURL: srv.URL, Token: "glpat", HTTP: loopbackClient}
	host := strings.TrimPrefix(srv.URL, "http://")
	host = host[:strings.LastIndex(host, ":")]
	var r githost.Repo
	for _, u := range []string{"https://" + host + "/northwind/payments/ledger", "https://" + host + "/northwind/payments/ledger/-/tree/main/docs",
		"https://" + host + "/northwind/payments/ledger.git", "git@" + host + ":northwind/payments/ledger.git"} {
		got, err := g.RepoFor(ctx, u)
		if err != nil || got.Owner != "northwind/payments" || got.Name != "ledger" {
			t.Errorf("RepoFor(%q) = %+v, %v", u, got, err)
		}
		r = got
	}
	if _, err := g.RepoFor(ctx, "https://"+host+"/northwind/gone"); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing project: %v", err)
	}
	if _, err := g.RepoFor(ctx, "https://gitlab.com/northwind/payments/ledger"); err == nil {
		t.Error("a project of another instance")
	}
	for _, c := range []struct {
		status any
		want   githost.ChecksState
	}{{"running", githost.ChecksPending}, {"failed", githost.ChecksFailed}, {"success", githost.ChecksPassed}, {nil, githost.ChecksPassed}} {
		if c.status == nil {
			pipeline = nil
		} else {
			pipeline = map[string]any{"status": c.status}
		}
		got, err := g.Change(ctx, r, 3)
		if err != nil || got.Checks != c.want || got.URL != "https://gitlab.example/northwind/payments/ledger/-/merge_requests/3" {
			t.Errorf("pipeline %v: %+v %v", c.status, got, err)
		}
	}
	if _, err := g.Change(ctx, r, 4); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("a missing merge request: %v", err)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.Write(b)
}
