package githost_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/workflows/githost"
)

// fakeGitHub is the part of GitHub's REST API the GitHub host uses, in memory.
type fakeGitHub struct {
	mu     sync.Mutex
	repos  map[string]map[string]any
	pulls  []map[string]any
	checks map[string][]map[string]any
	auth   []string
}

func newFakeGitHub(t *testing.T) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{repos: map[string]map[string]any{}, checks: map[string][]map[string]any{}}
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		key := r.PathValue("org") + "/" + in["name"].(string)
		if _, ok := f.repos[key]; ok {
			write(w, 422, map[string]any{"message": "Repository creation failed: name already exists on this account"})
			return
		}
		f.repos[key] = map[string]any{"name": in["name"], "owner": map[string]any{"login": r.PathValue("org")}, "clone_url": "https://github.example/" + key + ".git",
			"default_branch": "main", "description": in["description"]}
		write(w, 201, f.repos[key])
	})
	mux.HandleFunc("GET /repos/{o}/{r}", func(w http.ResponseWriter, r *http.Request) {
		repo, ok := f.repos[r.PathValue("o")+"/"+r.PathValue("r")]
		if !ok {
			write(w, 404, map[string]any{"message": "Not Found"})
			return
		}
		write(w, 200, repo)
	})
	mux.HandleFunc("GET /repos/{o}/{r}/pulls", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, p := range f.pulls {
			if p["state"] == r.URL.Query().Get("state") && r.PathValue("o")+":"+p["head"].(map[string]any)["ref"].(string) == r.URL.Query().Get("head") {
				out = append(out, p)
			}
		}
		write(w, 200, out)
	})
	mux.HandleFunc("POST /repos/{o}/{r}/pulls", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		p := map[string]any{"number": len(f.pulls) + 1, "state": "open", "title": in["title"], "body": in["body"], "merged": false,
			"html_url": "https://github.example/" + r.PathValue("o") + "/" + r.PathValue("r") + "/pull/" + strconv.Itoa(len(f.pulls)+1),
			"head":     map[string]any{"ref": in["head"], "sha": "sha-" + in["head"].(string)}}
		f.pulls = append(f.pulls, p)
		write(w, 201, p)
	})
	pull := func(r *http.Request) map[string]any {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n < 1 || n > len(f.pulls) {
			return nil
		}
		return f.pulls[n-1]
	}
	mux.HandleFunc("GET /repos/{o}/{r}/pulls/{n}", func(w http.ResponseWriter, r *http.Request) {
		if p := pull(r); p != nil {
			write(w, 200, p)
			return
		}
		write(w, 404, map[string]any{"message": "Not Found"})
	})
	mux.HandleFunc("PATCH /repos/{o}/{r}/pulls/{n}", func(w http.ResponseWriter, r *http.Request) {
		p := pull(r)
		p["state"] = "closed"
		write(w, 200, p)
	})
	mux.HandleFunc("PUT /repos/{o}/{r}/pulls/{n}/merge", func(w http.ResponseWriter, r *http.Request) {
		p := pull(r)
		p["state"], p["merged"], p["merge_commit_sha"] = "closed", true, "merge-"+r.PathValue("n")
		write(w, 200, map[string]any{"merged": true})
	})
	mux.HandleFunc("GET /repos/{o}/{r}/commits/{sha}/check-runs", func(w http.ResponseWriter, r *http.Request) {
		write(w, 200, map[string]any{"check_runs": f.checks[r.PathValue("sha")]})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// TestGitHubHostAgainstAFakeAPI creates a repository twice, opens a pull
// request twice (one request), reads its checks, merges it twice and closes
// another, all through GitHub's REST API as a fake server answers it.
func TestGitHubHostAgainstAFakeAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, srv := newFakeGitHub(t)
	g := &githost.GitHub{BaseURL: srv.URL, Token: "t0ken", HTTP: loopbackClient}
	var r githost.Repo
	for range 2 {
		var err error
		if r, err = g.CreateRepo(ctx, "northwind", "ledger", "", "The ledger"); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.repos) != 1 || r.RemoteURL != "https://github.example/northwind/ledger.git" || r.DefaultBranch != "main" {
		t.Fatalf("repos %v, repo %+v", f.repos, r)
	}
	c1, err := g.OpenChange(ctx, r, "backlot/codeowners", "Add CODEOWNERS", "Adds CODEOWNERS")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := g.OpenChange(ctx, r, "backlot/codeowners", "Add CODEOWNERS", ""); err != nil || again.Number != c1.Number || len(f.pulls) != 1 {
		t.Fatalf("second open: %+v %v (%d pulls)", again, err, len(f.pulls))
	}
	f.checks[c1.Head] = []map[string]any{{"status": "completed", "conclusion": "success"}, {"status": "in_progress"}}
	if done, _, err := g.ChecksPassed(ctx, r, c1.Head); err != nil || done {
		t.Fatalf("checks still running: done=%v %v", done, err)
	}
	f.checks[c1.Head][1] = map[string]any{"status": "completed", "conclusion": "failure"}
	if done, passed, _ := g.ChecksPassed(ctx, r, c1.Head); !done || passed {
		t.Fatalf("a failed check: done=%v passed=%v", done, passed)
	}
	f.checks[c1.Head][1] = map[string]any{"status": "completed", "conclusion": "skipped"}
	if done, passed, _ := g.ChecksPassed(ctx, r, c1.Head); !done || !passed {
		t.Fatalf("checks passed: done=%v passed=%v", done, passed)
	}
	for range 2 {
		m, err := g.MergeChange(ctx, r, c1.Number)
		if err != nil || m.State != githost.ChangeMerged || m.MergeCommit != "merge-1" {
			t.Fatalf("merge: %+v %v", m, err)
		}
	}
	c2, _ := g.OpenChange(ctx, r, "backlot/other", "Other", "")
	if cl, err := g.CloseChange(ctx, r, c2.Number); err != nil || cl.State != githost.ChangeClosed {
		t.Fatalf("close: %+v %v", cl, err)
	}
	if _, err := g.MergeChange(ctx, r, c2.Number); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("merging a closed request: %v", err)
	}
	for _, a := range f.auth {
		if a != "Bearer t0ken" {
			t.Fatalf("a request authenticated as %q", a)
		}
	}
}
