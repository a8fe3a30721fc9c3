package migration_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

// httpHost is the local host's repositories served over git's HTTP
// protocol, as GitHub serves them: clones and pushes need its header.
type httpHost struct {
	*githost.Local
	base, header string
}

func (h httpHost) RepoFor(ctx context.Context, url string) (githost.Repo, error) {
	r, err := h.Local.RepoFor(ctx, url)
	if err == nil {
		r.RemoteURL = h.base + "/" + r.Owner + "/" + r.Name + ".git"
	}
	return r, err
}

func (h httpHost) GitHeader(string) string { return h.header }

// TestPrepareAuthenticatesToAnHTTPRemote clones and pushes through git
// http-backend that refuses requests without the host's header, and finds
// the header in no error message.
func TestPrepareAuthenticatesToAnHTTPRemote(t *testing.T) {
	local, targets := fleet(t, 1)
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSuffix(strings.TrimPrefix(mustRepo(t, local, targets[0].Repo).RemoteURL, "file://"), "/fleet/svc-000.git")
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"}}
	header := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:s3cret"))
	var refused, pushed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if "Authorization: "+r.Header.Get("Authorization") != header {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "git-receive-pack") {
			pushed.Add(1)
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Repo: targets[0].Repo, Title: "Add CODEOWNERS"},
		Script: "echo '* @team-a' > CODEOWNERS", Branch: branch}
	acts := &migration.Activities{Host: httpHost{Local: local, base: srv.URL, header: header}, WorkDir: t.TempDir()}
	res, err := acts.Prepare(context.Background(), in)
	if err != nil || res.Unchanged || res.Head == "" || pushed.Load() != 1 {
		t.Fatalf("prepare over HTTP: %+v %v (pushes %d)", res, err, pushed.Load())
	}
	out, err := exec.Command("git", "--git-dir", root+"/fleet/svc-000.git", "show", branch+":CODEOWNERS").CombinedOutput()
	if err != nil || string(out) != "* @team-a\n" {
		t.Fatalf("pushed CODEOWNERS %q %v", out, err)
	}
	// Without the header the remote refuses, and the error says so without it.
	acts.Host = httpHost{Local: local, base: srv.URL, header: "Authorization: Basic d3Jvbmc="}
	_, err = acts.Prepare(context.Background(), in)
	if err == nil || strings.Contains(err.Error(), "d3Jvbmc") || refused.Load() == 0 {
		t.Fatalf("a wrong header: %v", err)
	}
}

func mustRepo(t *testing.T, h *githost.Local, url string) githost.Repo {
	t.Helper()
	r, err := h.RepoFor(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
