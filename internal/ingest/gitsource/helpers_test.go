package gitsource

import (
	"context"
	"fmt"
	"io"
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

	"backlot.dev/backlot/workflows/netguard"
)

// person is a commit author in the test repositories.
type person struct{ Name, Email string }

var (
	alice = person{"Alice Example", "alice@example.com"}
	bob   = person{"Bob Example", "bob@example.com"}
	carol = person{"Carol Example", "carol@example.com"}
)

// baseTime is the author time of a test repository's first commit; each later
// commit is one hour later.
var baseTime = time.Date(2024, 3, 4, 5, 6, 7, 0, time.FixedZone("", 2*60*60))

// testRepo is a git working repository made with the git binary in a temp dir.
type testRepo struct {
	t       *testing.T
	dir     string
	commits int
}

// newTestRepo makes a working repository in dir (created) whose first branch is
// branch.
func newTestRepo(t *testing.T, dir, branch string) *testRepo {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &testRepo{t: t, dir: dir}
	r.git(alice, "init", "--quiet", "--initial-branch="+branch)
	return r
}

// git runs git in the repository as who and returns its trimmed output.
func (r *testRepo) git(who person, args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.dir, r.env(who), args...)
}

// env returns the environment of a git command run by who, with the time of the
// next commit.
func (r *testRepo) env(who person) []string {
	at := r.nextTime().Format(time.RFC3339)
	return []string{
		"GIT_AUTHOR_NAME=" + who.Name, "GIT_AUTHOR_EMAIL=" + who.Email, "GIT_AUTHOR_DATE=" + at,
		"GIT_COMMITTER_NAME=" + who.Name, "GIT_COMMITTER_EMAIL=" + who.Email, "GIT_COMMITTER_DATE=" + at,
	}
}

// nextTime is the author time of the next commit.
func (r *testRepo) nextTime() time.Time { return baseTime.Add(time.Duration(r.commits) * time.Hour) }

// commit writes files (path → content; "" content removes the file), commits them
// as who and returns the commit's hash and author time.
func (r *testRepo) commit(who person, msg string, files map[string]string) (string, time.Time) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	at := r.nextTime()
	r.git(who, "add", "--all")
	r.git(who, "commit", "--quiet", "--allow-empty", "-m", msg)
	r.commits++
	return r.git(who, "rev-parse", "HEAD"), at
}

// runGit runs the git binary in dir with no global or system configuration.
func runGit(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// fileURL returns the file:// URL of a local path.
func fileURL(p string) string { return "file://" + filepath.ToSlash(p) }

// newTestReader returns a Reader with a fresh cache, allowing roots and hosts.
func newTestReader(t *testing.T, opts Options) *Reader {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	if opts.Guard == nil {
		// The test git servers listen on 127.0.0.1: allow loopback explicitly.
		opts.Guard = netguard.Loopback()
	}
	r, err := NewReader(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustParse parses a target or fails the test.
func mustParse(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// gitServer serves the bare repositories under root over git's smart HTTP protocol
// with git http-backend, on 127.0.0.1, counting requests.
type gitServer struct {
	*httptest.Server
	requests atomic.Int64
}

// serveGit starts a gitServer for root; it is closed when the test ends.
func serveGit(t *testing.T, root string) *gitServer {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Root: "/",
		// http-backend complains about missing repositories on standard error.
		Stderr: io.Discard,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
		},
	}
	s := &gitServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.requests.Add(1)
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return s
}

// host returns the server's host:port.
func (s *gitServer) host() string { return strings.TrimPrefix(s.URL, "http://") }

// ctxT returns a context that ends with the test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// checkFile compares the parts of a File a test cares about.
func checkFile(t *testing.T, f File, content, commitSHA string, who person, at time.Time, head string) {
	t.Helper()
	if string(f.Content) != content {
		t.Errorf("Content = %q, want %q", f.Content, content)
	}
	if f.Commit.SHA != commitSHA {
		t.Errorf("Commit.SHA = %s, want %s", f.Commit.SHA, commitSHA)
	}
	if f.Commit.Author != who.Name || f.Commit.Email != who.Email {
		t.Errorf("Commit author = %s <%s>, want %s <%s>", f.Commit.Author, f.Commit.Email, who.Name, who.Email)
	}
	if !f.Commit.Time.Equal(at) {
		t.Errorf("Commit.Time = %s, want %s", f.Commit.Time, at)
	}
	if f.HeadSHA != head {
		t.Errorf("HeadSHA = %s, want %s", f.HeadSHA, head)
	}
	if f.Target.CommitSHA != head {
		t.Errorf("Target.CommitSHA = %s, want %s", f.Target.CommitSHA, head)
	}
}

// sprintTarget formats every field of a Target for failure messages.
func sprintTarget(t Target) string { return fmt.Sprintf("%+v", t) }

// ReadRelative reads the file at rel, a path relative to the directory of t.Path
// (as in "$text: ./openapi.yaml" or a Location's relative spec.targets), from the
// same repository and branch. To read the same commit as an earlier Read, pass that
// File's Target: the file is then read from the cache without contacting the
// remote. It refuses, with an *InvalidTargetError, a rel that is empty, absolute, a
// URL, or leaves the repository; otherwise it behaves as Read. It is Join and
// Read, as the ingester calls them, in one step for the tests.
func (r *Reader) ReadRelative(ctx context.Context, t Target, rel string) (File, error) {
	nt, err := t.Join(rel)
	if err != nil {
		return File{}, err
	}
	return r.Read(ctx, nt)
}
