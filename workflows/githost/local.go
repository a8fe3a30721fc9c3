package githost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/fault"
)

// ErrNotFound is returned for a repository or change request that does not exist.
var ErrNotFound = fault.Sentinel(fault.NotFound, "githost: not found")

// namePart is what an owner or repository name may be.
var namePart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Repo is a repository on a host.
type Repo struct {
	Owner, Name string
	// RemoteURL is what git clones and pushes (file:///…/owner/name.git here).
	RemoteURL string `json:"remoteUrl"`
	// DefaultBranch is the branch the repository starts on.
	DefaultBranch string `json:"defaultBranch"`
	// Description says what the repository holds.
	Description string `json:"description,omitempty"`
}

// ContentsURL returns the URL of the default branch's tree, in the form
// Backlot's url locations read (?ref=&path=), for catalog:register.
func (r Repo) ContentsURL() string {
	return r.RemoteURL + "?ref=" + r.DefaultBranch
}

// ChangeState is the state of a change request.
type ChangeState string

// The states of a change request.
const (
	ChangeOpen   ChangeState = "open"
	ChangeMerged ChangeState = "merged"
	ChangeClosed ChangeState = "closed"
)

// Change is a change request: a branch to merge into the default branch.
type Change struct {
	Number int         `json:"number"`
	Branch string      `json:"branch"`
	Title  string      `json:"title"`
	Body   string      `json:"body,omitempty"`
	State  ChangeState `json:"state"`
	// Head is the branch's commit when the request was opened or last updated.
	Head string `json:"head"`
	// MergeCommit is set once merged.
	MergeCommit string    `json:"mergeCommit,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	// URL links to the change request: its web page on GitHub and GitLab,
	// <remote URL>#change/<number> on the Local host.
	URL string `json:"url,omitempty"`
	// Checks is the state of the head commit's checks; only Host.Change
	// reads it (empty elsewhere).
	Checks ChecksState `json:"checks,omitempty"`
}

// ChecksState sums up a change request's checks (CI).
type ChecksState string

// The states of a change request's checks. A change without checks has
// passed them.
const (
	ChecksPending ChecksState = "pending"
	ChecksPassed  ChecksState = "passed"
	ChecksFailed  ChecksState = "failed"
)

// Local is a git host on disk: Root/owner/name.git bare repositories and a
// changes.json beside each. It is safe for concurrent use within a process.
type Local struct {
	root string
	mu   sync.Mutex
}

// NewLocal returns the host under root, created if missing.
func NewLocal(root string) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	return &Local{root: abs}, nil
}

func (l *Local) dir(owner, name string) (string, error) {
	if !namePart.MatchString(owner) || !namePart.MatchString(name) || strings.HasSuffix(name, ".git") {
		return "", fmt.Errorf("githost: %q/%q is not a repository name (letters, digits, ., _ and -)", owner, name)
	}
	return filepath.Join(l.root, owner, name+".git"), nil
}

// Repo returns the repository, or ErrNotFound.
func (l *Local) Repo(ctx context.Context, owner, name string) (Repo, error) {
	dir, err := l.dir(owner, name)
	if err != nil {
		return Repo{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return Repo{}, fmt.Errorf("%w: repository %s/%s", ErrNotFound, owner, name)
	}
	r := Repo{Owner: owner, Name: name, RemoteURL: "file://" + dir}
	if b, err := git(ctx, dir, "symbolic-ref", "--short", "HEAD"); err == nil {
		r.DefaultBranch = strings.TrimSpace(b)
	}
	if d, err := os.ReadFile(filepath.Join(dir, "description")); err == nil && !bytes.HasPrefix(d, []byte("Unnamed repository")) {
		r.Description = strings.TrimSpace(string(d))
	}
	return r, nil
}

// CreateRepo creates an empty bare repository, or returns the one there
// (retried activities get the same repository).
func (l *Local) CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (Repo, error) {
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	dir, err := l.dir(owner, name)
	if err != nil {
		return Repo{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, err := l.Repo(ctx, owner, name); err == nil {
		return r, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Repo{}, err
	}
	tmp := dir + ".creating"
	os.RemoveAll(tmp)
	if _, err := git(ctx, "", "init", "-q", "--bare", "-b", defaultBranch, tmp); err != nil {
		return Repo{}, err
	}
	if description != "" {
		if err := os.WriteFile(filepath.Join(tmp, "description"), []byte(description+"\n"), 0o644); err != nil {
			return Repo{}, err
		}
	}
	// A rename makes the repository appear whole or not at all.
	if err := os.Rename(tmp, dir); err != nil {
		return Repo{}, err
	}
	return l.Repo(ctx, owner, name)
}

// Publish commits the files of dir as the first commit of the repository's
// default branch, by author ("Name <email>"), and returns the commit (see
// PublishDir: a retried publish makes one commit).
func (l *Local) Publish(ctx context.Context, r Repo, dir, message, author string) (string, error) {
	return PublishDir(ctx, r.RemoteURL, nil, dir, r.DefaultBranch, message, author)
}

// AuthorEnv is the git environment that sets author and committer from
// "Name <email>" (Backlot <backlot@localhost> when empty).
func AuthorEnv(author string) []string {
	name, email := "Backlot", "backlot@localhost"
	if n, e, ok := strings.Cut(author, "<"); ok {
		name, email = strings.TrimSpace(n), strings.TrimSuffix(strings.TrimSpace(e), ">")
	} else if author != "" {
		name = author
	}
	return []string{"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email}
}

// OpenChange opens a change request for a branch already pushed to the
// repository, or returns the open one of that branch (updated to the
// branch's head), so a retried activity opens one.
func (l *Local) OpenChange(ctx context.Context, r Repo, branch, title, body string) (Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	remote := strings.TrimPrefix(r.RemoteURL, "file://")
	head, err := git(ctx, remote, "rev-parse", "--verify", "-q", "refs/heads/"+branch)
	if err != nil {
		return Change{}, fmt.Errorf("%w: branch %s of %s/%s", ErrNotFound, branch, r.Owner, r.Name)
	}
	head = strings.TrimSpace(head)
	cs, err := l.load(remote)
	if err != nil {
		return Change{}, err
	}
	now := time.Now().UTC()
	for i := range cs {
		if cs[i].Branch == branch && cs[i].State == ChangeOpen {
			cs[i].Head, cs[i].Title, cs[i].Body, cs[i].Updated = head, title, body, now
			return cs[i], l.save(remote, cs)
		}
	}
	c := Change{Number: len(cs) + 1, Branch: branch, Title: title, Body: body, State: ChangeOpen, Head: head, Created: now, Updated: now,
		URL: LocalChangeURL("file://"+remote, len(cs)+1)}
	cs = append(cs, c)
	return c, l.save(remote, cs)
}

// Changes lists the repository's change requests, oldest first.
func (l *Local) Changes(ctx context.Context, r Repo) ([]Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.load(strings.TrimPrefix(r.RemoteURL, "file://"))
}

// MergeChange merges an open change request into the default branch with a
// merge commit (a fast-forward when possible) and marks it merged; merging a
// merged one returns it as it is.
func (l *Local) MergeChange(ctx context.Context, r Repo, number int) (Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	remote, cs, i, err := l.change(r, number)
	if err != nil {
		return Change{}, err
	}
	switch cs[i].State {
	case ChangeMerged:
		return cs[i], nil
	case ChangeClosed:
		return Change{}, fmt.Errorf("githost: change %d of %s/%s is closed", number, r.Owner, r.Name)
	}
	base, err := git(ctx, remote, "rev-parse", r.DefaultBranch)
	if err != nil {
		return Change{}, err
	}
	base = strings.TrimSpace(base)
	merged := cs[i].Head
	if _, err := git(ctx, remote, "merge-base", "--is-ancestor", base, merged); err != nil {
		// Not a fast-forward: a merge commit of the two trees.
		tree, err := git(ctx, remote, "merge-tree", "--write-tree", base, merged)
		if err != nil {
			return Change{}, fmt.Errorf("githost: change %d of %s/%s does not merge cleanly: %w", number, r.Owner, r.Name, err)
		}
		out, err := gitEnv(ctx, remote, AuthorEnv(""), "commit-tree", strings.Fields(tree)[0], "-p", base, "-p", merged, "-m", fmt.Sprintf("Merge change %d: %s", number, cs[i].Title))
		if err != nil {
			return Change{}, err
		}
		merged = strings.TrimSpace(out)
	}
	if _, err := git(ctx, remote, "update-ref", "refs/heads/"+r.DefaultBranch, merged, base); err != nil {
		return Change{}, err
	}
	cs[i].State, cs[i].MergeCommit, cs[i].Updated = ChangeMerged, merged, time.Now().UTC()
	return cs[i], l.save(remote, cs)
}

// CloseChange closes an open change request without merging it.
func (l *Local) CloseChange(ctx context.Context, r Repo, number int) (Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	remote, cs, i, err := l.change(r, number)
	if err != nil {
		return Change{}, err
	}
	if cs[i].State == ChangeOpen {
		cs[i].State, cs[i].Updated = ChangeClosed, time.Now().UTC()
	}
	return cs[i], l.save(remote, cs)
}

// Repos lists the host's repositories by owner and name.
func (l *Local) Repos(ctx context.Context) ([]Repo, error) {
	matches, err := filepath.Glob(filepath.Join(l.root, "*", "*.git"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	var out []Repo
	for _, m := range matches {
		r, err := l.Repo(ctx, filepath.Base(filepath.Dir(m)), strings.TrimSuffix(filepath.Base(m), ".git"))
		if err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// change loads the repository's change requests and finds number among them:
// it returns the repository's folder, the list and the request's index.
func (l *Local) change(r Repo, number int) (string, []Change, int, error) {
	remote := strings.TrimPrefix(r.RemoteURL, "file://")
	cs, err := l.load(remote)
	if err != nil {
		return "", nil, 0, err
	}
	i := number - 1
	if i < 0 || i >= len(cs) {
		return "", nil, 0, fmt.Errorf("%w: change %d of %s/%s", ErrNotFound, number, r.Owner, r.Name)
	}
	return remote, cs, i, nil
}

func (l *Local) load(repoDir string) ([]Change, error) {
	b, err := os.ReadFile(filepath.Join(repoDir, "backlot-changes.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cs []Change
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].URL = LocalChangeURL("file://"+repoDir, cs[i].Number)
	}
	return cs, nil
}

// LocalChangeURL is the link of the Local host's change request number in
// the repository of remoteURL: remoteURL#change/number.
func LocalChangeURL(remoteURL string, number int) string {
	return fmt.Sprintf("%s#change/%d", remoteURL, number)
}

// Change returns a change request as it is now. The Local host runs no
// checks, so they have always passed.
func (l *Local) Change(ctx context.Context, r Repo, number int) (Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, cs, i, err := l.change(r, number)
	if err != nil {
		return Change{}, err
	}
	c := cs[i]
	c.Checks = ChecksPassed
	return c, nil
}

// RepoFor returns the repository of a file:///<root>/owner/name.git URL
// (a ?ref= query, a #fragment or a /tree/<branch>/... suffix is ignored). A
// URL that is not a file URL or leads outside the host's root is an error; a
// repository that is not there is ErrNotFound.
func (l *Local) RepoFor(ctx context.Context, rawURL string) (Repo, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
		return Repo{}, fmt.Errorf("githost: %q is not a file:/// URL of the local host", rawURL)
	}
	p := u.Path
	if i := strings.Index(p, ".git/tree/"); i >= 0 {
		p = p[:i+len(".git")]
	}
	p = filepath.Clean(strings.TrimSuffix(p, "/"))
	rel, err := filepath.Rel(l.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return Repo{}, fmt.Errorf("githost: %q is not under the local host's root", rawURL)
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 2 || !strings.HasSuffix(parts[1], ".git") {
		return Repo{}, fmt.Errorf("githost: %q does not name <root>/owner/name.git", rawURL)
	}
	return l.Repo(ctx, parts[0], strings.TrimSuffix(parts[1], ".git"))
}

// save writes the change requests through a rename, so a crash leaves the old
// list or the new one.
func (l *Local) save(repoDir string, cs []Change) error {
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(repoDir, "backlot-changes.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(repoDir, "backlot-changes.json"))
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	return gitEnv(ctx, dir, nil, args...)
}

// gitEnv runs git in dir (when set) with env added, without the user's
// configuration, and returns its output; an error carries git's message.
func gitEnv(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	if dir != "" {
		cmd.Dir = dir
	}
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}
