package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/app"
)

// git runs git in dir as the given author and returns its output.
func git(t *testing.T, dir, author string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	name, email, _ := strings.Cut(author, "|")
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+email,
		"GIT_COMMITTER_NAME="+name, "GIT_COMMITTER_EMAIL="+email, "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestOwnerChangeInAGitCommitShowsInTheHistory registers a catalog file from a
// git repository, changes its owner in a commit by another author, and reads
// the entity's history: the new version names that commit and its author, and
// its diff is the owner change.
func TestOwnerChangeInAGitCommitShowsInTheHistory(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	os.MkdirAll(repo, 0o755)
	git(t, repo, "Ada|ada@example.com", "init", "-q", "-b", "main")
	write := func(owner string) {
		os.WriteFile(filepath.Join(repo, "catalog-info.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\nspec:\n  type: service\n  lifecycle: production\n  owner: "+owner+"\n"), 0o644)
	}
	write("team-a")
	git(t, repo, "Ada|ada@example.com", "add", ".")
	git(t, repo, "Ada|ada@example.com", "commit", "-q", "-m", "add ledger")

	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{root}})
	defer d.Close()
	base := "http://" + d.Addr()
	target := "file://" + repo + "?ref=main&path=catalog-info.yaml"
	if code, _ := postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "url", "target": target}, nil); code != http.StatusCreated {
		t.Fatalf("register %s: %d", target, code)
	}

	write("team-b")
	git(t, repo, "Grace Hopper|grace@example.com", "commit", "-q", "-am", "hand ledger to team-b")
	sha := git(t, repo, "", "rev-parse", "HEAD")
	if code, _ := postJSON(t, base+"/api/catalog/refresh", map[string]string{"entityRef": "component:default/ledger"}, nil); code != http.StatusOK {
		t.Fatalf("refresh: %d", code)
	}

	var hist struct {
		Items []struct {
			Version int    `json:"version"`
			Actor   string `json:"actor"`
			Commit  *struct {
				SHA, Author, Email string
			} `json:"commit"`
			Changes []struct {
				Path, Op      string
				Before, After any
			} `json:"changes"`
		} `json:"items"`
	}
	var raw json.RawMessage
	if code := get(t, d, "/api/audit/entities/component/default/ledger/history", &raw); code != http.StatusOK {
		t.Fatalf("history: %d %s", code, raw)
	}
	json.Unmarshal(raw, &hist)
	if len(hist.Items) != 2 {
		t.Fatalf("history has %d versions, want 2: %s", len(hist.Items), raw)
	}
	v2 := hist.Items[1]
	if v2.Commit == nil || v2.Commit.SHA != sha || v2.Commit.Author != "Grace Hopper" || v2.Commit.Email != "grace@example.com" {
		t.Fatalf("version 2's commit is %+v, want %s by Grace Hopper", v2.Commit, sha)
	}
	if !strings.HasPrefix(v2.Actor, "location:") {
		t.Fatalf("version 2's actor is %q, want its location", v2.Actor)
	}
	if len(v2.Changes) != 1 || v2.Changes[0].Path != "spec.owner" || v2.Changes[0].Before != "team-a" || v2.Changes[0].After != "team-b" {
		t.Fatalf("version 2's changes: %+v", v2.Changes)
	}
	if hist.Items[0].Commit == nil || hist.Items[0].Commit.Author != "Ada" {
		t.Fatalf("version 1's commit: %+v", hist.Items[0].Commit)
	}
}
