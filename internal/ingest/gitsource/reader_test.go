package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
)

func TestReadLastCommitAndFetch(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	first, firstAt := repo.commit(alice, "add catalog", map[string]string{"catalog-info.yaml": "v1\n"})
	later, _ := repo.commit(bob, "touch readme", map[string]string{"README.md": "hello\n"})

	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	target := mustParse(t, fileURL(repo.dir)+"?ref=main&path=catalog-info.yaml")
	f, err := r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}
	// The README commit is the head, but the file's commit is still Alice's.
	checkFile(t, f, "v1\n", first, alice, firstAt, later)
	if want := fileURL(repo.dir) + "?ref=main&path=catalog-info.yaml"; f.URL != want {
		t.Errorf("URL = %q, want %q", f.URL, want)
	}

	// A commit that changes the file is seen on the next read: the cache fetches.
	third, thirdAt := repo.commit(carol, "edit catalog", map[string]string{"catalog-info.yaml": "v2\n"})
	f, err = r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, f, "v2\n", third, carol, thirdAt, third)

	// Nothing changed: same answer, from the cache.
	f2, err := r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, f2, "v2\n", third, carol, thirdAt, third)

	// Exactly one cache repository was made.
	if dirs := cacheRepos(t, r); len(dirs) != 1 || len(dirs[0]) != 64 {
		t.Errorf("cache holds %v, want one folder named by a sha256", dirs)
	}
}

// cacheRepos lists the repository folders in r's cache.
func cacheRepos(t *testing.T, r *Reader) []string {
	t.Helper()
	entries, err := os.ReadDir(r.opts.CacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

func TestReadersSharingACache(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	head, _ := repo.commit(alice, "one", map[string]string{"catalog-info.yaml": "v1\n"})
	cache := filepath.Join(t.TempDir(), "cache")
	readers := []*Reader{
		newTestReader(t, Options{CacheDir: cache, AllowedRoots: []string{root}}),
		newTestReader(t, Options{CacheDir: cache, AllowedRoots: []string{root}}),
	}
	target := mustParse(t, fileURL(repo.dir))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			f, err := readers[i%2].Read(ctxT(t), target)
			if err == nil && f.HeadSHA != head {
				err = errors.New("HeadSHA " + f.HeadSHA + ", want " + head)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if dirs := cacheRepos(t, readers[0]); len(dirs) != 1 {
		t.Errorf("cache holds %v, want one repository", dirs)
	}
}

func TestReadBranchesTagsAndDefault(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "trunk")
	first, firstAt := repo.commit(alice, "one", map[string]string{"catalog-info.yaml": "trunk v1\n"})
	repo.git(alice, "tag", "-a", "-m", "release", "v1")
	repo.git(alice, "checkout", "--quiet", "-b", "feature/x")
	feat, featAt := repo.commit(bob, "feature", map[string]string{"catalog-info.yaml": "feature\n"})
	repo.git(alice, "checkout", "--quiet", "trunk")
	second, secondAt := repo.commit(carol, "two", map[string]string{"catalog-info.yaml": "trunk v2\n"})

	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	base := fileURL(repo.dir)
	tests := []struct {
		name    string
		target  string
		content string
		commit  string
		who     person
		at      time.Time
		head    string
		ref     string
	}{
		{"default branch", base, "trunk v2\n", second, carol, secondAt, second, "trunk"},
		{"named default branch", base + "?ref=trunk", "trunk v2\n", second, carol, secondAt, second, "trunk"},
		{"non-default branch with a slash", base + "?ref=feature/x&path=catalog-info.yaml", "feature\n", feat, bob, featAt, feat, "feature/x"},
		{"annotated tag", base + "?ref=v1", "trunk v1\n", first, alice, firstAt, first, "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := r.Read(ctxT(t), mustParse(t, tt.target))
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, f, tt.content, tt.commit, tt.who, tt.at, tt.head)
			if f.Target.Ref != tt.ref {
				t.Errorf("Target.Ref = %q, want %q", f.Target.Ref, tt.ref)
			}
			if want := base + "?ref=" + tt.ref + "&path=catalog-info.yaml"; f.URL != want {
				t.Errorf("URL = %q, want %q", f.URL, want)
			}
		})
	}
}

func TestReadMergeAttributesTheChangingCommit(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	repo.commit(alice, "one", map[string]string{"catalog-info.yaml": "v1\n"})
	repo.git(alice, "checkout", "--quiet", "-b", "side")
	side, sideAt := repo.commit(bob, "side edit", map[string]string{"catalog-info.yaml": "v2\n"})
	repo.git(alice, "checkout", "--quiet", "main")
	repo.commit(alice, "main edit elsewhere", map[string]string{"other.txt": "x\n"})
	repo.git(carol, "merge", "--quiet", "--no-ff", "-m", "merge side", "side")
	merge := repo.git(carol, "rev-parse", "HEAD")

	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	f, err := r.Read(ctxT(t), mustParse(t, fileURL(repo.dir)+"?ref=main"))
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, f, "v2\n", side, bob, sideAt, merge)
}

func TestReadBareAndRenamedBranches(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	work := newTestRepo(t, filepath.Join(root, "work"), "main")
	work.git(alice, "checkout", "--quiet", "-b", "a/b")
	ab, _ := work.commit(alice, "on a/b", map[string]string{"catalog-info.yaml": "a/b\n"})
	bare := filepath.Join(root, "bare.git")
	runGit(t, root, nil, "clone", "--quiet", "--bare", work.dir, bare)

	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	f, err := r.Read(ctxT(t), mustParse(t, fileURL(bare)+"?ref=a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if f.HeadSHA != ab || string(f.Content) != "a/b\n" {
		t.Fatalf("read %q at %s, want a/b at %s", f.Content, f.HeadSHA, ab)
	}

	// Branch a/b is replaced by a branch a: the cache must not trip over its old a/b.
	runGit(t, bare, nil, "branch", "-m", "a/b", "a")
	f, err = r.Read(ctxT(t), mustParse(t, fileURL(bare)+"?ref=a"))
	if err != nil {
		t.Fatal(err)
	}
	if f.HeadSHA != ab {
		t.Fatalf("HeadSHA = %s, want %s", f.HeadSHA, ab)
	}
}

func TestReadNotFound(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	repo.commit(alice, "one", map[string]string{"catalog-info.yaml": "v1\n", "dir/x.yaml": "x\n"})
	empty := newTestRepo(t, filepath.Join(root, "empty"), "main")
	if err := os.Mkdir(filepath.Join(root, "not-a-repo"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newTestReader(t, Options{AllowedRoots: []string{root}})

	tests := []struct {
		name   string
		target string
		want   NotFoundError
	}{
		{"missing file", fileURL(repo.dir) + "?ref=main&path=nope/catalog-info.yaml",
			NotFoundError{Repo: fileURL(repo.dir), Ref: "main", Path: "nope/catalog-info.yaml"}},
		{"missing file on the default branch", fileURL(repo.dir) + "?path=nope.yaml",
			NotFoundError{Repo: fileURL(repo.dir), Ref: "main", Path: "nope.yaml"}},
		{"file below a file", fileURL(repo.dir) + "?path=catalog-info.yaml/x",
			NotFoundError{Repo: fileURL(repo.dir), Ref: "main", Path: "catalog-info.yaml/x"}},
		{"missing branch", fileURL(repo.dir) + "?ref=nope",
			NotFoundError{Repo: fileURL(repo.dir), Ref: "nope"}},
		{"missing repository inside the roots", fileURL(filepath.Join(root, "nope")),
			NotFoundError{Repo: fileURL(filepath.Join(root, "nope"))}},
		{"folder that is not a repository", fileURL(filepath.Join(root, "not-a-repo")),
			NotFoundError{Repo: fileURL(filepath.Join(root, "not-a-repo"))}},
		{"repository without commits", fileURL(empty.dir),
			NotFoundError{Repo: fileURL(empty.dir)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Read(ctxT(t), mustParse(t, tt.target))
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("Read(%s) error = %T %v, want *NotFoundError", tt.target, err, err)
			}
			if *nf != tt.want {
				t.Errorf("NotFoundError = %+v, want %+v", *nf, tt.want)
			}
			for _, part := range []string{tt.want.Repo, tt.want.Ref, tt.want.Path} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not name %q", err, part)
				}
			}
		})
	}
}

func TestReadRefusesWhatIsNotAFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	if err := os.Symlink("catalog-info.yaml", filepath.Join(repo.dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	repo.commit(alice, "one", map[string]string{
		"catalog-info.yaml": "v1\n",
		"dir/x.yaml":        "x\n",
		"big.yaml":          strings.Repeat("x", 2000),
		"fits.yaml":         strings.Repeat("x", 1000),
	})
	r := newTestReader(t, Options{AllowedRoots: []string{root}, MaxFileBytes: 1000})
	base := fileURL(repo.dir)

	if _, err := r.Read(ctxT(t), mustParse(t, base+"?path=dir")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("reading a directory: %v, want an error saying it is a directory", err)
	}
	if _, err := r.Read(ctxT(t), mustParse(t, base+"?path=link.yaml")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("reading a symbolic link: %v, want an error saying it is a symbolic link", err)
	}
	_, err := r.Read(ctxT(t), mustParse(t, base+"?path=big.yaml"))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != 2000 || tl.Limit != 1000 || !errors.Is(err, catalog.ErrTooLarge) {
		t.Errorf("reading a file over MaxFileBytes: %v, want *TooLargeError{Size: 2000, Limit: 1000}", err)
	}
	if err != nil && !strings.Contains(err.Error(), "big.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
	if f, err := r.Read(ctxT(t), mustParse(t, base+"?path=fits.yaml")); err != nil || len(f.Content) != 1000 {
		t.Errorf("reading a file of exactly MaxFileBytes: %d bytes, %v", len(f.Content), err)
	}
}

func TestReadRelative(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	repo.commit(alice, "one", map[string]string{
		"services/a/catalog-info.yaml": "kind: API\n",
		"services/a/openapi.yaml":      "openapi v1\n",
		"services/common.yaml":         "common\n",
	})
	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	target := mustParse(t, fileURL(repo.dir)+"?path=services/a/catalog-info.yaml")
	f, err := r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}

	api, err := r.ReadRelative(ctxT(t), f.Target, "./openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(api.Content) != "openapi v1\n" || api.HeadSHA != f.HeadSHA {
		t.Errorf("ReadRelative = %q at %s, want openapi v1 at %s", api.Content, api.HeadSHA, f.HeadSHA)
	}
	if want := fileURL(repo.dir) + "?ref=main&path=services/a/openapi.yaml"; api.URL != want {
		t.Errorf("URL = %q, want %q", api.URL, want)
	}
	common, err := r.ReadRelative(ctxT(t), f.Target, "../common.yaml")
	if err != nil || string(common.Content) != "common\n" {
		t.Errorf("ReadRelative(../common.yaml) = %q, %v", common.Content, err)
	}

	for _, rel := range []string{"../../../etc/passwd", "../../../repo/services/common.yaml", "/etc/passwd", "file:///etc/passwd"} {
		_, err := r.ReadRelative(ctxT(t), f.Target, rel)
		var ite *InvalidTargetError
		if !errors.As(err, &ite) {
			t.Errorf("ReadRelative(%q) error = %v, want *InvalidTargetError", rel, err)
		}
	}

	// The file changes upstream: the pinned target still reads the first commit,
	// the unpinned one reads the new tip.
	second, _ := repo.commit(bob, "two", map[string]string{"services/a/openapi.yaml": "openapi v2\n"})
	old, err := r.ReadRelative(ctxT(t), f.Target, "openapi.yaml")
	if err != nil || string(old.Content) != "openapi v1\n" || old.HeadSHA != f.HeadSHA {
		t.Errorf("pinned ReadRelative = %q at %s, %v; want openapi v1 at %s", old.Content, old.HeadSHA, err, f.HeadSHA)
	}
	cur, err := r.ReadRelative(ctxT(t), target, "openapi.yaml")
	if err != nil || string(cur.Content) != "openapi v2\n" || cur.HeadSHA != second || cur.Commit.SHA != second {
		t.Errorf("unpinned ReadRelative = %q at %s, %v; want openapi v2 at %s", cur.Content, cur.HeadSHA, err, second)
	}

	// A pinned commit the remote never had is not found.
	ghost := f.Target
	ghost.CommitSHA = strings.Repeat("0", 40)
	var nf *NotFoundError
	if _, err := r.Read(ctxT(t), ghost); !errors.As(err, &nf) {
		t.Errorf("Read of an unknown commit: %v, want *NotFoundError", err)
	}
}

func TestReadConfinedToRoots(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	outside := filepath.Join(base, "outside")
	inside := newTestRepo(t, filepath.Join(allowed, "repo"), "main")
	inside.commit(alice, "one", map[string]string{"catalog-info.yaml": "in\n"})
	secret := newTestRepo(t, filepath.Join(outside, "secret"), "main")
	secret.commit(alice, "one", map[string]string{"catalog-info.yaml": "secret\n"})
	if err := os.Symlink(secret.dir, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	secret.git(alice, "worktree", "add", "--quiet", "-b", "wt", filepath.Join(allowed, "wt"))
	// The allowed root itself is reached through a symbolic link.
	rootLink := filepath.Join(base, "root-link")
	if err := os.Symlink(allowed, rootLink); err != nil {
		t.Fatal(err)
	}

	r := newTestReader(t, Options{AllowedRoots: []string{rootLink}})
	if f, err := r.Read(ctxT(t), mustParse(t, fileURL(inside.dir))); err != nil || string(f.Content) != "in\n" {
		t.Fatalf("Read inside the root = %q, %v", f.Content, err)
	}
	if f, err := r.Read(ctxT(t), mustParse(t, fileURL(filepath.Join(rootLink, "repo")))); err != nil || string(f.Content) != "in\n" {
		t.Fatalf("Read inside the root through its link = %q, %v", f.Content, err)
	}

	for name, target := range map[string]string{
		"outside":                   fileURL(secret.dir),
		"symbolic link to outside":  fileURL(filepath.Join(allowed, "link")),
		"worktree of outside":       fileURL(filepath.Join(allowed, "wt")),
		"missing path outside":      fileURL(filepath.Join(outside, "nope")),
		"the parent of the root":    fileURL(base),
		"a sibling with the prefix": fileURL(allowed + "-evil"),
	} {
		_, err := r.Read(ctxT(t), mustParse(t, target))
		var na *NotAllowedError
		if !errors.As(err, &na) || !errors.Is(err, catalog.ErrNotAllowed) {
			t.Errorf("%s: Read(%s) error = %v, want *NotAllowedError", name, target, err)
			continue
		}
		if na.Target.CloneURL == "" || !strings.Contains(na.Reason, "AllowedRoots") {
			t.Errorf("%s: NotAllowedError = %+v", name, na)
		}
	}
	if dirs := cacheRepos(t, r); len(dirs) != 1 {
		t.Errorf("cache holds %v, want 1 repository: refused targets must not be cloned", dirs)
	}

	none := newTestReader(t, Options{})
	if _, err := none.Read(ctxT(t), mustParse(t, fileURL(inside.dir))); !errors.As(err, new(*NotAllowedError)) {
		t.Errorf("Read with no AllowedRoots: %v, want *NotAllowedError", err)
	}
}

func TestReadChecksHandMadeTargets(t *testing.T) {
	t.Parallel()
	r := newTestReader(t, Options{AllowedHosts: []string{"github.com"}, AllowedRoots: []string{t.TempDir()}})
	tests := []struct {
		name   string
		target Target
	}{
		{"host does not match the URL", Target{CloneURL: "https://evil.example/org/repo", Host: "github.com", Path: "catalog-info.yaml"}},
		{"unclean path", Target{CloneURL: "https://github.com/org/repo", Path: "a/../../b.yaml"}},
		{"empty path", Target{CloneURL: "https://github.com/org/repo"}},
		{"bad ref", Target{CloneURL: "https://github.com/org/repo", Ref: "--upload-pack=x", Path: "a.yaml"}},
		{"short commit", Target{CloneURL: "https://github.com/org/repo", CommitSHA: "abc123", Path: "a.yaml"}},
		{"credentials", Target{CloneURL: "https://u:p@github.com/org/repo", Path: "a.yaml"}},
		{"ssh", Target{CloneURL: "ssh://github.com/org/repo", Path: "a.yaml"}},
		{"file with dot-dot", Target{CloneURL: "file:///tmp/a/../b", Path: "a.yaml"}},
		{"local path does not match", Target{CloneURL: "file:///tmp/a", LocalPath: "/tmp/b", Path: "a.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Read(ctxT(t), tt.target)
			if !errors.As(err, new(*InvalidTargetError)) {
				t.Errorf("Read(%s) error = %v, want *InvalidTargetError", sprintTarget(tt.target), err)
			}
		})
	}
	// A hand-made target without Host is checked against the URL's host.
	_, err := r.Read(ctxT(t), Target{CloneURL: "https://evil.example/org/repo", Path: "catalog-info.yaml"})
	if !errors.As(err, new(*NotAllowedError)) {
		t.Errorf("Read of a hand-made target on another host: %v, want *NotAllowedError", err)
	}
}

func TestReadHonoursContext(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	repo := newTestRepo(t, filepath.Join(root, "repo"), "main")
	repo.commit(alice, "one", map[string]string{"catalog-info.yaml": "v1\n"})
	r := newTestReader(t, Options{AllowedRoots: []string{root}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Read(ctx, mustParse(t, fileURL(repo.dir))); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v, want context.Canceled", err)
	}
}
