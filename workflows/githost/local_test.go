package githost_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/githost"
)

// run runs git in dir and returns its output.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pushBranch clones the repository, writes files on a new branch and pushes it.
func pushBranch(t *testing.T, r githost.Repo, branch string, files map[string]string) {
	t.Helper()
	clone := t.TempDir()
	run(t, clone, "clone", "-q", r.RemoteURL, ".")
	run(t, clone, "checkout", "-q", "-b", branch)
	write(t, clone, files)
	run(t, clone, "add", "-A")
	run(t, clone, "commit", "-q", "-m", "change "+branch)
	run(t, clone, "push", "-q", "origin", branch)
}

// TestLocalHostPublishesAndMergesIdempotently creates and publishes a
// repository twice (one repository, one commit), opens a change request twice
// (one request), merges a fast-forward and a diverged change, and closes one.
func TestLocalHostPublishesAndMergesIdempotently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := githost.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write(t, src, map[string]string{"README.md": "# ledger\n", "catalog-info.yaml": "kind: Component\n", "cmd/main.go": "package main\n"})
	var first string
	for i := range 2 {
		r, err := h.CreateRepo(ctx, "northwind", "ledger", "main", "The ledger service")
		if err != nil {
			t.Fatal(err)
		}
		commit, err := h.Publish(ctx, r, src, "Initial commit from a template", "Ada Lovelace <ada@example.com>")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = commit
		} else if commit != first {
			t.Fatalf("a second publish made commit %s after %s", commit, first)
		}
	}
	repos, _ := h.Repos(ctx)
	if len(repos) != 1 || repos[0].Description != "The ledger service" || repos[0].DefaultBranch != "main" {
		t.Fatalf("repos: %+v", repos)
	}
	r := repos[0]
	clone := t.TempDir()
	run(t, clone, "clone", "-q", r.RemoteURL, ".")
	if got := run(t, clone, "log", "--format=%an <%ae>|%s"); got != "Ada Lovelace <ada@example.com>|Initial commit from a template" {
		t.Fatalf("log: %s", got)
	}
	if got := run(t, clone, "ls-files"); got != "README.md\ncatalog-info.yaml\ncmd/main.go" {
		t.Fatalf("files: %q", got)
	}

	pushBranch(t, r, "backlot/codeowners", map[string]string{"CODEOWNERS": "* @team-a\n"})
	c1, err := h.OpenChange(ctx, r, "backlot/codeowners", "Add CODEOWNERS", "Adds CODEOWNERS")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.OpenChange(ctx, r, "backlot/codeowners", "Add CODEOWNERS", "Adds CODEOWNERS")
	if err != nil || again.Number != c1.Number {
		t.Fatalf("a second open: %+v %v, want change %d", again, err, c1.Number)
	}
	pushBranch(t, r, "backlot/ci", map[string]string{".github/workflows/ci.yml": "on: push\n"})
	c2, err := h.OpenChange(ctx, r, "backlot/ci", "Add CI", "")
	if err != nil || c2.Number != 2 {
		t.Fatalf("second change: %+v %v", c2, err)
	}
	pushBranch(t, r, "backlot/nothing", map[string]string{"x": "y"})
	c3, _ := h.OpenChange(ctx, r, "backlot/nothing", "Nothing", "")

	m1, err := h.MergeChange(ctx, r, c1.Number)
	if err != nil || m1.State != githost.ChangeMerged || m1.MergeCommit != c1.Head {
		t.Fatalf("fast-forward merge: %+v %v", m1, err)
	}
	m2, err := h.MergeChange(ctx, r, c2.Number)
	if err != nil || m2.State != githost.ChangeMerged || m2.MergeCommit == c2.Head {
		t.Fatalf("merge of a diverged branch: %+v %v", m2, err)
	}
	if again, err := h.MergeChange(ctx, r, c2.Number); err != nil || again.MergeCommit != m2.MergeCommit {
		t.Fatalf("merging twice: %+v %v", again, err)
	}
	if cl, err := h.CloseChange(ctx, r, c3.Number); err != nil || cl.State != githost.ChangeClosed {
		t.Fatalf("close: %+v %v", cl, err)
	}
	if _, err := h.MergeChange(ctx, r, c3.Number); err == nil {
		t.Fatal("a closed change merged")
	}
	run(t, clone, "pull", "-q")
	if got := run(t, clone, "ls-files"); got != ".github/workflows/ci.yml\nCODEOWNERS\nREADME.md\ncatalog-info.yaml\ncmd/main.go" {
		t.Fatalf("files after the merges: %q", got)
	}
	if _, err := h.MergeChange(ctx, r, 9); !errors.Is(err, githost.ErrNotFound) {
		t.Fatalf("merge of a missing change: %v", err)
	}
	if _, err := h.CreateRepo(ctx, "../evil", "x", "", ""); err == nil {
		t.Fatal("a name with .. was taken")
	}
}
