package ingest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/ingest/gitsource"
)

type collect struct {
	refs     []string
	commits  map[string]*event.Commit
	problems []event.ProcessingError
	kept     []string
	unread   []string
}

func (c *collect) Entity(o refresh.Observed) error {
	c.refs = append(c.refs, o.Entity.Ref().Key())
	if c.commits == nil {
		c.commits = map[string]*event.Commit{}
	}
	c.commits[o.Entity.Ref().Key()] = o.Commit
	return nil
}
func (c *collect) Problem(pe event.ProcessingError) { c.problems = append(c.problems, pe) }
func (c *collect) KeepFile(m string)                { c.kept = append(c.kept, m) }
func (c *collect) KeepEntity(string)                {}
func (c *collect) KeepUnread(t string)              { c.unread = append(c.unread, t) }

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const comp = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: NAME
spec:
  type: service
  lifecycle: production
  owner: team-a
`

func component(name string) string { return strings.ReplaceAll(comp, "NAME", name) }

func newReader(t *testing.T, roots ...string) *ingest.Reader {
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

func walk(t *testing.T, r *ingest.Reader, typ, target string, memo bool) *collect {
	t.Helper()
	c := &collect{}
	commit, err := r.Walk(context.Background(), typ, target, c, memo)
	if err != nil {
		t.Fatal(err)
	}
	commit()
	sort.Strings(c.refs)
	return c
}

func TestWalkFollowsLocationsGlobsAndPlaceholders(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "all.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec:
  targets: [./services/*/catalog-info.yaml, ./apis.yaml]
`)
	write(t, filepath.Join(root, "services/a/catalog-info.yaml"), component("a"))
	write(t, filepath.Join(root, "services/b/catalog-info.yaml"), component("b"))
	write(t, filepath.Join(root, "apis.yaml"), `apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: pets}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./defs/pets.yaml}}
`)
	write(t, filepath.Join(root, "defs/pets.yaml"), "openapi: 3.0.0\n")
	r := newReader(t, root)
	c := walk(t, r, "file", filepath.Join(root, "all.yaml"), true)
	want := []string{"api:default/pets", "component:default/a", "component:default/b", "location:default/all"}
	if strings.Join(c.refs, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", c.refs, want)
	}
	if len(c.problems) != 0 {
		t.Fatalf("unexpected problems %+v", c.problems)
	}

	// A second walk keeps unchanged clean files instead of parsing them again;
	// the file with a placeholder is always read.
	c = walk(t, r, "file", filepath.Join(root, "all.yaml"), true)
	if strings.Join(c.refs, ",") != "api:default/pets" {
		t.Fatalf("second walk parsed %v, want only the file with a placeholder", c.refs)
	}
	if len(c.kept) != 3 {
		t.Fatalf("second walk kept %v, want the three unchanged files", c.kept)
	}
	// A changed file is parsed again.
	write(t, filepath.Join(root, "services/b/catalog-info.yaml"), component("b2"))
	c = walk(t, r, "file", filepath.Join(root, "all.yaml"), true)
	if strings.Join(c.refs, ",") != "api:default/pets,component:default/b2" {
		t.Fatalf("third walk parsed %v", c.refs)
	}
}

func TestConfinement(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.yaml"), component("secret"))
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(root, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "escape.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: escape}
spec: {targets: [../`+filepath.Base(outside)+`/secret.yaml]}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: leak}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: `+filepath.Join(outside, "secret.yaml")+`}}
`)
	r := newReader(t, root)
	for _, target := range []string{filepath.Join(outside, "secret.yaml"), filepath.Join(root, "link.yaml"), filepath.Join(root, "../x.yaml")} {
		_, err := r.Normalize(context.Background(), "file", target)
		var na *ingest.NotAllowedError
		if !errors.As(err, &na) || !errors.Is(err, catalog.ErrNotAllowed) || !errors.Is(err, fault.Forbidden) {
			t.Errorf("Normalize(%s) = %v, want a 403 NotAllowedError", target, err)
		}
	}
	c := walk(t, r, "file", filepath.Join(root, "escape.yaml"), false)
	if strings.Join(c.refs, ",") != "location:default/escape" {
		t.Fatalf("got %v; nothing outside the root may be read", c.refs)
	}
	if len(c.problems) != 2 {
		t.Fatalf("want two NotAllowed problems, got %+v", c.problems)
	}
	for _, p := range c.problems {
		if !strings.Contains(p.Message, "not allowed") {
			t.Errorf("problem %+v does not say the target is not allowed", p)
		}
	}
	if _, err := r.Normalize(context.Background(), "url", "https://example.com/org/repo"); err != nil {
		t.Fatalf("a well-formed url normalizes: %v", err)
	}
	if err := r.Probe(context.Background(), "url", "https://example.com/org/repo"); !errors.Is(err, catalog.ErrNotAllowed) {
		t.Fatalf("a url on a host not allowed must be refused, got %v", err)
	}
}

func TestURLLocationCarriesCommit(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ada Okafor", "GIT_AUTHOR_EMAIL=ada@example.com",
			"GIT_COMMITTER_NAME=Ada Okafor", "GIT_COMMITTER_EMAIL=ada@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write(t, filepath.Join(repo, "catalog-info.yaml"), component("from-git"))
	run("init", "-q", "-b", "main")
	run("add", ".")
	run("commit", "-q", "-m", "add component")
	r := newReader(t, root)
	c := walk(t, r, "url", "file://"+repo+"?ref=main&path=catalog-info.yaml", true)
	if strings.Join(c.refs, ",") != "component:default/from-git" {
		t.Fatalf("got %v %+v", c.refs, c.problems)
	}
	cm := c.commits["component:default/from-git"]
	if cm == nil || len(cm.SHA) != 40 || cm.Author != "Ada Okafor" || cm.Email != "ada@example.com" {
		t.Fatalf("commit not carried: %+v", cm)
	}
}

// TestWalkTrustsTheStampOfASettledFile: a file left alone for a while is
// known unchanged by its size and modification time, without being read; a
// write gives it a new modification time, and it is read again.
func TestWalkTrustsTheStampOfASettledFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	path := filepath.Join(root, "catalog-info.yaml")
	old := time.Now().Add(-time.Hour)
	settle := func() {
		t.Helper()
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(t, path, component("aaaa"))
	settle()
	r := newReader(t, root)
	if c := walk(t, r, "file", path, true); strings.Join(c.refs, ",") != "component:default/aaaa" {
		t.Fatalf("first walk: got %v", c.refs)
	}
	// The same size and the same modification time: the stamp is trusted, and
	// the file is kept as it was, unread.
	write(t, path, component("bbbb"))
	settle()
	c := walk(t, r, "file", path, true)
	if len(c.refs) != 0 || strings.Join(c.kept, ",") != "file:"+path {
		t.Fatalf("a file with its remembered stamp: got entities %v, kept %v; want none read and the file kept", c.refs, c.kept)
	}
	// A write gives the file a new modification time: it is read again.
	write(t, path, component("cccc"))
	if c := walk(t, r, "file", path, true); strings.Join(c.refs, ",") != "component:default/cccc" {
		t.Fatalf("a written file: got %v, want it read again", c.refs)
	}
	// Without the memo every file is read.
	settle()
	if c := walk(t, r, "file", path, false); strings.Join(c.refs, ",") != "component:default/cccc" {
		t.Fatalf("a walk without the memo: got %v", c.refs)
	}
}
