package scaffolder_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/netguard"
	"backlot.dev/backlot/workflows/scaffolder"
)

// fakeGitHubWithGit serves GitHub's create-repository API (the part
// publish:github calls) and real git over HTTP (git http-backend) for the
// repositories it creates, refusing pushes without the token.
func fakeGitHubWithGit(t *testing.T, token string) (*httptest.Server, string, *atomic.Int32) {
	t.Helper()
	root := t.TempDir()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	var pushes atomic.Int32
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("POST /orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		var in struct{ Name, Description string }
		json.NewDecoder(r.Body).Decode(&in)
		dir := filepath.Join(root, r.PathValue("org"), in.Name+".git")
		status := http.StatusCreated
		if _, err := os.Stat(dir); err == nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write([]byte(`{"message":"name already exists on this account"}`))
			return
		}
		if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput(); err != nil {
			t.Errorf("git init: %v %s", err, out)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"name": in.Name, "owner": map[string]any{"login": r.PathValue("org")},
			"clone_url": srv.URL + "/git/" + r.PathValue("org") + "/" + in.Name + ".git", "default_branch": "main", "description": in.Description})
	})
	mux.HandleFunc("GET /repos/{org}/{name}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(root, r.PathValue("org"), r.PathValue("name")+".git")); err != nil {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"name": r.PathValue("name"), "owner": map[string]any{"login": r.PathValue("org")},
			"clone_url": srv.URL + "/git/" + r.PathValue("org") + "/" + r.PathValue("name") + ".git", "default_branch": "main"})
	})
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: []string{
		"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"}}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	mux.Handle("/git/", http.StripPrefix("/git", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			pushes.Add(1)
		}
		backend.ServeHTTP(w, r)
	})))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, root, &pushes
}

func TestPublishGitHubPushesOverHTTPSOnceWithTheToken(t *testing.T) {
	// The fake host listens on loopback, which a host's API client reaches
	// only when allowed.
	loopback := netguard.NewClient(netguard.Loopback(), 30*time.Second)
	t.Parallel()
	srv, root, pushes := fakeGitHubWithGit(t, "t0ken-value")
	gh := &githost.GitHub{BaseURL: srv.URL, Token: "t0ken-value", HTTP: loopback}
	ws := scaffolder.Workspace{Dir: t.TempDir()}
	os.WriteFile(filepath.Join(ws.Dir, "README.md"), []byte("# payments\n"), 0o644)
	in := scaffolder.PublishInput{RepoURL: "github.com?owner=acme&repo=payments", DefaultBranch: "main", Description: "Pays"}
	ctx := context.Background()
	first, err := scaffolder.Publish(ctx, gh, ws, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", filepath.Join(root, "acme/payments.git"), "show", "main:README.md").CombinedOutput()
	if err != nil || string(out) != "# payments\n" {
		t.Fatalf("pushed README: %q %v", out, err)
	}
	// A retry after a crash finds the commit and pushes nothing.
	again, err := scaffolder.Publish(ctx, gh, ws, in)
	if err != nil || again.CommitHash != first.CommitHash || pushes.Load() != 1 {
		t.Fatalf("retry: %+v %v, pushes %d", again, err, pushes.Load())
	}
	if !strings.HasSuffix(first.RepoContentsURL, "/git/acme/payments/blob/main") {
		t.Fatalf("repoContentsUrl %s", first.RepoContentsURL)
	}
	// A wrong token is refused, and the error does not repeat it.
	bad := &githost.GitHub{BaseURL: srv.URL, Token: "wr0ng-token", HTTP: loopback}
	_, err = scaffolder.Publish(ctx, bad, ws, scaffolder.PublishInput{RepoURL: "github.com?owner=acme&repo=other", DefaultBranch: "main"})
	if err == nil || strings.Contains(err.Error(), "wr0ng-token") {
		t.Fatalf("wrong token: %v", err)
	}
}
