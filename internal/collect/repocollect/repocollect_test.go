package repocollect

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/ingest/gitsource"
	"backlot.dev/backlot/projections/catalogstore"
)

// write writes files (slash paths under dir).
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// view returns an entity managed by the location.
func view(managedBy string) *catalogstore.EntityView {
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"name": "x",
		"annotations": map[string]string{"backstage.io/managed-by-location": managedBy}}})
	return &catalogstore.EntityView{Key: "component:default/x", Body: body}
}

func reader(t *testing.T, roots ...string) *ingest.Reader {
	t.Helper()
	r, err := ingest.NewRoots(roots)
	if err != nil {
		t.Fatal(err)
	}
	git, err := gitsource.NewReader(gitsource.Options{CacheDir: t.TempDir(), AllowedRoots: r.Dirs()})
	if err != nil {
		t.Fatal(err)
	}
	return ingest.NewReader(ingest.Config{Roots: r, Git: git})
}

func TestFactsOfAFolder(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"svc/catalog-info.yaml": "x", "svc/README.md": "# svc", "svc/CODEOWNERS": "* @a",
		"all.yaml": "x", "other/pay_test.go": "package pay",
	})
	collect := New(reader(t, root))
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		managedBy string
		want      map[string]any // nil: no facts
		err       string
	}{
		{name: "a repository's descriptor", managedBy: "file:" + filepath.Join(root, "svc", "catalog-info.yaml"),
			want: map[string]any{"readme": true, "codeowners": true, "tests": false, "files": int64(3)}},
		{name: "a shared catalog file", managedBy: "file:" + filepath.Join(root, "all.yaml")},
		{name: "a descriptor outside the roots", managedBy: "file:" + filepath.Join(t.TempDir(), "catalog-info.yaml"), err: "not allowed"},
		{name: "no location", managedBy: ""},
		// Without a commit the repository is read at its head (a merged
		// migration changed it); a host the reader may not read is refused.
		{name: "a url on a host not allowed", managedBy: "url:https://github.com/acme/svc/blob/main/catalog-info.yaml", err: "not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := collect(ctx, view(c.managedBy), "")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("facts %v, error %v, want an error naming %q", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if got != nil {
					t.Fatalf("facts %v, want none", got)
				}
				return
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestFactsOfAGitCommit reads a monorepo's folder at a commit: the files of
// the descriptor's folder only, as they were at that commit.
func TestFactsOfAGitCommit(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	write(t, repo, map[string]string{"services/ledger/catalog-info.yaml": "x", "services/ledger/README.md": "#",
		"services/other/other_test.go": "package other"})
	gitCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitCmd("init", "-q", "-b", "main")
	gitCmd("add", ".")
	gitCmd("commit", "-q", "-m", "one")
	first := gitCmd("rev-parse", "HEAD")
	write(t, repo, map[string]string{"services/ledger/ledger_test.go": "package ledger"})
	gitCmd("add", ".")
	gitCmd("commit", "-q", "-m", "two")
	second := gitCmd("rev-parse", "HEAD")

	collect := New(reader(t, root))
	target := "url:file://" + repo + "?ref=main&path=services/ledger/catalog-info.yaml"
	for commit, tests := range map[string]bool{first: false, second: true} {
		got, err := collect(context.Background(), view(target), commit)
		if err != nil {
			t.Fatal(err)
		}
		if got["readme"] != true || got["tests"] != tests {
			t.Errorf("facts at %s: %v, want readme and tests=%v (other folders' tests do not count)", commit[:7], got, tests)
		}
	}
}

func TestUnderFolder(t *testing.T) {
	got := underFolder([]string{"a/b/c.go", "a/bc/d.go", "a/b", "x/a/b/e.go", "a/b/f/g.go"}, "a/b")
	if want := []string{"c.go", "f/g.go"}; !slices.Equal(got, want) {
		t.Fatalf("underFolder = %v, want %v", got, want)
	}
}

// TestManagedByOfSkipsOnlyWhatCannotBeADescriptor checks that the cheap
// pre-check of managedByOf gives json.Unmarshal's answer for every location
// that may be a repository's descriptor: any case, and escaped letters.
func TestManagedByOfSkipsOnlyWhatCannotBeADescriptor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
	}{
		{"a descriptor", `{"metadata":{"annotations":{"backstage.io/managed-by-location":"file:/r/svc/catalog-info.yaml"}}}`, "file:/r/svc/catalog-info.yaml"},
		{"another case", `{"metadata":{"annotations":{"backstage.io/managed-by-location":"file:/r/svc/Catalog-INFO.yaml"}}}`, "file:/r/svc/Catalog-INFO.yaml"},
		{"escaped letters", `{"metadata":{"annotations":{"backstage.io/managed-by-location":"file:/r/svc/\u0063atalog-info.yaml"}}}`, "file:/r/svc/catalog-info.yaml"},
		{"a shared file", `{"metadata":{"annotations":{"backstage.io/managed-by-location":"file:/r/all.yaml"}}}`, ""},
		{"none", `{"metadata":{}}`, ""},
	}
	for _, c := range cases {
		if got := managedByOf(json.RawMessage(c.body)); got != c.want {
			t.Errorf("%s: managedByOf = %q, want %q", c.name, got, c.want)
		}
		if !isRepoDescriptor(filepath.Base(c.want)) && c.want != "" {
			t.Errorf("%s: %q is not a descriptor", c.name, c.want)
		}
	}
	if containsFold([]byte("file:/r/all.yaml"), "catalog-info") || !containsFold([]byte("x CATALOG-info"), "catalog-info") {
		t.Error("containsFold")
	}
}
