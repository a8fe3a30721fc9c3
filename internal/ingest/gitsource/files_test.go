package gitsource

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

func TestListFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	first, _ := repo.commit(alice, "one", map[string]string{
		"catalog-info.yaml":        "c\n",
		"README.md":                "hi\n",
		"cmd/cart/main.go":         "package main\n",
		"cmd/cart/main_test.go":    "package main\n",
		".github/workflows/ci.yml": "on: push\n",
		"a-b.txt":                  "x\n",
		"a/b.txt":                  "x\n",
		"odd name\twith tab.txt":   "x\n",
		"docs/ünïcode.md":          "x\n",
	})
	if err := os.Symlink("README.md", filepath.Join(repo.dir, "LINK.md")); err != nil {
		t.Fatal(err)
	}
	second, _ := repo.commit(bob, "two", map[string]string{"a/b.txt": "", "tests/new.py": "x\n"})
	repo.git(alice, "checkout", "--quiet", "-b", "feature")
	feature, _ := repo.commit(carol, "feature", map[string]string{"feature.txt": "f\n"})
	repo.git(alice, "checkout", "--quiet", "main")

	atFirst := []string{
		".github/workflows/ci.yml", "README.md", "a-b.txt", "a/b.txt", "catalog-info.yaml",
		"cmd/cart/main.go", "cmd/cart/main_test.go", "docs/ünïcode.md", "odd name\twith tab.txt",
	}
	atSecond := []string{
		".github/workflows/ci.yml", "LINK.md", "README.md", "a-b.txt", "catalog-info.yaml",
		"cmd/cart/main.go", "cmd/cart/main_test.go", "docs/ünïcode.md", "odd name\twith tab.txt",
		"tests/new.py",
	}
	base := fileURL(repo.dir)
	tests := []struct {
		name   string
		target string
		sha    string
		max    int
		want   []string
	}{
		{name: "first commit", target: base, sha: first, max: 100, want: atFirst},
		{name: "second commit", target: base, sha: second, max: 100, want: atSecond},
		{name: "empty sha is the tip", target: base, max: 100, want: atSecond},
		{name: "the target's path is ignored", target: base + "?ref=main&path=cmd/cart/catalog-info.yaml", sha: first, max: 100, want: atFirst},
		{name: "a commit of another branch", target: base + "?ref=feature", sha: feature, max: 100, want: append(slices.Clone(atSecond), "feature.txt")},
		{name: "bounded", target: base, sha: first, max: 3, want: []string{".github/workflows/ci.yml", "README.md", "a-b.txt"}},
		{name: "one", target: base, sha: first, max: 1, want: []string{".github/workflows/ci.yml"}},
		{name: "exactly as many as there are", target: base, sha: first, max: len(atFirst), want: atFirst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A fresh cache each time: ListFiles clones what it needs.
			r := newTestReader(t, Options{AllowedRoots: []string{root}})
			got, err := r.ListFiles(ctxT(t), tt.target, tt.sha, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("ListFiles(%s, %s, %d) =\n%q\nwant\n%q", tt.target, tt.sha, tt.max, got, want)
			}
		})
	}
}

// TestListFilesFetchesMissingCommits lists a commit the cache does not hold yet:
// ListFiles fetches the branch, as Read does, and needs no fetch for a commit the
// cache holds.
func TestListFilesFetchesMissingCommits(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	work := newTestRepo(t, filepath.Join(tmp, "work"), "main")
	first, _ := work.commit(alice, "one", map[string]string{"catalog-info.yaml": "c\n"})
	served := filepath.Join(tmp, "served")
	runGit(t, tmp, nil, "clone", "--quiet", "--bare", work.dir, filepath.Join(served, "repo.git"))
	srv := serveGit(t, served)
	target := srv.URL + "/repo.git?ref=main&path=catalog-info.yaml"

	r := newTestReader(t, Options{AllowedHosts: []string{srv.host()}})
	got, err := r.ListFiles(ctxT(t), target, first, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"catalog-info.yaml"}; !slices.Equal(got, want) {
		t.Errorf("ListFiles at the first commit = %q, want %q", got, want)
	}

	second, _ := work.commit(bob, "two", map[string]string{"README.md": "hi\n"})
	work.git(bob, "push", "--quiet", filepath.Join(served, "repo.git"), "main")
	got, err = r.ListFiles(ctxT(t), target, second, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "catalog-info.yaml"}; !slices.Equal(got, want) {
		t.Errorf("ListFiles at the pushed commit = %q, want %q", got, want)
	}

	// Both commits are cached now: listing them again asks the server nothing.
	before := srv.requests.Load()
	for _, sha := range []string{first, second} {
		if _, err := r.ListFiles(ctxT(t), target, sha, 10); err != nil {
			t.Fatal(err)
		}
	}
	if after := srv.requests.Load(); after != before {
		t.Errorf("listing cached commits made %d requests, want none", after-before)
	}
	if dirs := cacheRepos(t, r); len(dirs) != 1 {
		t.Errorf("cache holds %v, want one repository", dirs)
	}
}

func TestListFilesErrors(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	inside := newTestRepo(t, filepath.Join(allowed, "repo"), "main")
	head, _ := inside.commit(alice, "one", map[string]string{"catalog-info.yaml": "in\n"})
	secret := newTestRepo(t, filepath.Join(base, "outside", "secret"), "main")
	secretHead, _ := secret.commit(alice, "one", map[string]string{"key.txt": "secret\n"})
	if err := os.Symlink(secret.dir, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	ghost := strings.Repeat("e", 40)

	isNotAllowed := func(err error) bool {
		return errors.As(err, new(*NotAllowedError)) && errors.Is(err, catalog.ErrNotAllowed)
	}
	isNotFound := func(err error) bool { return errors.As(err, new(*NotFoundError)) }
	isInvalid := func(err error) bool { return errors.As(err, new(*InvalidTargetError)) }
	isBadMax := func(err error) bool { return err != nil && strings.Contains(err.Error(), "max must be positive") }
	tests := []struct {
		name   string
		target string
		sha    string
		max    int
		check  func(error) bool
		want   string
		// cached says whether the refusal may leave a cache repository behind.
		cached bool
	}{
		{name: "repository outside the roots", target: fileURL(secret.dir), sha: secretHead, max: 10, check: isNotAllowed, want: "*NotAllowedError"},
		{name: "link to a repository outside", target: fileURL(filepath.Join(allowed, "link")), sha: secretHead, max: 10, check: isNotAllowed, want: "*NotAllowedError"},
		{name: "host not allowed", target: "https://gitlab.example/org/repo", sha: head, max: 10, check: isNotAllowed, want: "*NotAllowedError"},
		{name: "unknown commit", target: fileURL(inside.dir), sha: ghost, max: 10, check: isNotFound, want: "*NotFoundError", cached: true},
		{name: "missing branch", target: fileURL(inside.dir) + "?ref=nope", sha: head, max: 10, check: isNotFound, want: "*NotFoundError", cached: true},
		{name: "missing repository", target: fileURL(filepath.Join(allowed, "nope")), sha: head, max: 10, check: isNotFound, want: "*NotFoundError"},
		{name: "short sha", target: fileURL(inside.dir), sha: head[:12], max: 10, check: isInvalid, want: "*InvalidTargetError"},
		{name: "upper-case sha", target: fileURL(inside.dir), sha: strings.ToUpper(head), max: 10, check: isInvalid, want: "*InvalidTargetError"},
		{name: "option as sha", target: fileURL(inside.dir), sha: "--output=/tmp/x", max: 10, check: isInvalid, want: "*InvalidTargetError"},
		{name: "bad target", target: "ssh://github.com/org/repo", sha: head, max: 10, check: isInvalid, want: "*InvalidTargetError"},
		{name: "zero max", target: fileURL(inside.dir), sha: head, max: 0, check: isBadMax, want: "a max error"},
		{name: "negative max", target: fileURL(inside.dir), sha: head, max: -1, check: isBadMax, want: "a max error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newTestReader(t, Options{AllowedRoots: []string{allowed}, AllowedHosts: []string{"github.com"}})
			got, err := r.ListFiles(ctxT(t), tt.target, tt.sha, tt.max)
			if !tt.check(err) || got != nil {
				t.Errorf("ListFiles(%s, %s, %d) = %q, %v; want %s", tt.target, tt.sha, tt.max, got, err, tt.want)
			}
			// What is refused before reaching the repository is never cloned.
			if dirs := cacheRepos(t, r); !tt.cached && len(dirs) != 0 {
				t.Errorf("cache holds %v, want nothing", dirs)
			}
		})
	}
}

func TestPathListBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chunks   []string
		max      int
		maxBytes int64
		want     []string
		full     bool
	}{
		{name: "paths split across writes", chunks: []string{"a/b", ".txt\x00c", "\x00", "d\x00"}, max: 10, maxBytes: 100, want: []string{"a/b.txt", "c", "d"}},
		{name: "stops at max", chunks: []string{"a\x00b\x00c\x00d\x00"}, max: 2, maxBytes: 100, want: []string{"a", "b"}, full: true},
		{name: "stops at max bytes", chunks: []string{"a\x00b\x00", "c\x00d\x00"}, max: 10, maxBytes: 6, want: []string{"a", "b"}, full: true},
		{name: "no output", chunks: nil, max: 10, maxBytes: 100, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &pathList{max: tt.max, maxBytes: tt.maxBytes}
			var werr error
			for _, c := range tt.chunks {
				if _, werr = l.Write([]byte(c)); werr != nil {
					break
				}
			}
			if !slices.Equal(l.paths, tt.want) || l.full != tt.full {
				t.Errorf("paths %q full %v, want %q full %v", l.paths, l.full, tt.want, tt.full)
			}
			if tt.full != (werr != nil) {
				t.Errorf("write error = %v, want one only when full", werr)
			}
		})
	}
}
