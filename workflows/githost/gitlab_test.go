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

// TestGitLabHostAgainstAFakeAPI creates a project twice, opens a merge
// request twice (one request), merges it twice and closes another, through
// GitLab's API v4 as a fake server answers it.
func TestGitLabHostAgainstAFakeAPI(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	projects := map[string]map[string]any{}
	var mrs []map[string]any
	var tokens []string
	write := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := projects[r.PathValue("id")]; ok {
			write(w, 200, p)
			return
		}
		write(w, 404, map[string]any{"message": "404 Project Not Found"})
	})
	mux.HandleFunc("GET /api/v4/namespaces/{ns}", func(w http.ResponseWriter, r *http.Request) {
		write(w, 200, map[string]any{"id": 7, "full_path": r.PathValue("ns")})
	})
	mux.HandleFunc("POST /api/v4/projects", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		p := map[string]any{"path": in["path"], "namespace": map[string]any{"full_path": "northwind"}, "description": in["description"],
			"http_url_to_repo": "https://gitlab.example/northwind/" + in["path"].(string) + ".git", "default_branch": in["default_branch"]}
		projects["northwind/"+in["path"].(string)] = p
		write(w, 201, p)
	})
	mux.HandleFunc("GET /api/v4/projects/{id}/merge_requests", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, m := range mrs {
			if m["state"] == r.URL.Query().Get("state") && m["source_branch"] == r.URL.Query().Get("source_branch") {
				out = append(out, m)
			}
		}
		write(w, 200, out)
	})
	mux.HandleFunc("POST /api/v4/projects/{id}/merge_requests", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		m := map[string]any{"iid": len(mrs) + 1, "state": "opened", "title": in["title"], "description": in["description"], "source_branch": in["source_branch"], "sha": "sha1"}
		mrs = append(mrs, m)
		write(w, 201, m)
	})
	mr := func(r *http.Request) map[string]any {
		n, _ := strconv.Atoi(r.PathValue("iid"))
		return mrs[n-1]
	}
	mux.HandleFunc("GET /api/v4/projects/{id}/merge_requests/{iid}", func(w http.ResponseWriter, r *http.Request) { write(w, 200, mr(r)) })
	mux.HandleFunc("PUT /api/v4/projects/{id}/merge_requests/{iid}/merge", func(w http.ResponseWriter, r *http.Request) {
		m := mr(r)
		m["state"], m["merge_commit_sha"] = "merged", "m1"
		write(w, 200, m)
	})
	mux.HandleFunc("PUT /api/v4/projects/{id}/merge_requests/{iid}", func(w http.ResponseWriter, r *http.Request) {
		m := mr(r)
		m["state"] = "closed"
		write(w, 200, m)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, r.Header.Get("PRIVATE-TOKEN"))
		// GitLab takes the project as one escaped path segment
		// (northwind%2Fledger); the mux matches escaped segments.
		if strings.Contains(r.URL.EscapedPath(), "/projects/northwind/") {
			t.Errorf("%s: the project is not escaped", r.URL.Path)
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ctx := context.Background()
	g := &githost.GitLab{BaseURL: srv.URL, Token: "glpat", HTTP: loopbackClient}
	var repo githost.Repo
	for range 2 {
		var err error
		if repo, err = g.CreateRepo(ctx, "northwind", "ledger", "main", "The ledger"); err != nil {
			t.Fatal(err)
		}
	}
	if len(projects) != 1 || repo.RemoteURL != "https://gitlab.example/northwind/ledger.git" {
		t.Fatalf("projects %v repo %+v", projects, repo)
	}
	c, err := g.OpenChange(ctx, repo, "backlot/x", "X", "")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := g.OpenChange(ctx, repo, "backlot/x", "X", ""); again.Number != c.Number || len(mrs) != 1 {
		t.Fatalf("second open: %+v (%d requests)", again, len(mrs))
	}
	for range 2 {
		if m, err := g.MergeChange(ctx, repo, c.Number); err != nil || m.State != githost.ChangeMerged || m.MergeCommit != "m1" {
			t.Fatalf("merge: %+v %v", m, err)
		}
	}
	c2, _ := g.OpenChange(ctx, repo, "backlot/y", "Y", "")
	if cl, err := g.CloseChange(ctx, repo, c2.Number); err != nil || cl.State != githost.ChangeClosed {
		t.Fatalf("close: %+v %v", cl, err)
	}
	for _, tok := range tokens {
		if tok != "glpat" {
			t.Fatalf("a request with token %q", tok)
		}
	}
}
