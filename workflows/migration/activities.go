package migration

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/sandbox"
)

// The types of the non-retryable errors activities fail with.
const (
	// ErrTypeScriptFailed is a change script that exited non-zero or timed
	// out; the error's details are a ScriptFailure.
	ErrTypeScriptFailed = "ScriptFailed"
	// ErrTypeRepoNotFound is a target whose repository the host does not hold.
	ErrTypeRepoNotFound = "RepoNotFound"
)

// ScriptFailure is the detail of an ErrTypeScriptFailed error.
type ScriptFailure struct {
	// Output is the end (OutputTail) of the script's combined output.
	Output string `json:"output"`
}

// Activities are the migration's activities, with what they need: the git
// host, a scratch folder and the catalog's event log. Its methods are
// registered by Register under the Activity* names.
type Activities struct {
	// Host is where targets' repositories live.
	Host githost.Host
	// WorkDir holds a scratch folder per target run, removed after it; empty
	// is the system's temporary folder.
	WorkDir string
	// Record appends events to the catalog's log; nil drops them.
	Record func(ctx context.Context, evs []event.Envelope) error
	// Actor is the events' actor when the migration names none.
	Actor string
	// Sandbox configures the bubblewrap sandbox change scripts run in: its
	// limits, whether a script may have the network, and Insecure (the
	// worker's --insecure-scripts) to run them unisolated where bwrap is
	// unavailable. Without bwrap and without Insecure, scripts are refused.
	Sandbox sandbox.Config

	once      sync.Once
	runner    *sandbox.Runner
	runnerErr error
}

// PrepareInput is what Prepare changes: one target, the spec's script and
// branch, and the commit's message (the change request's title).
type PrepareInput struct {
	Migration string        `json:"migration"`
	Target    TargetInput   `json:"target"`
	Script    string        `json:"script"`
	Timeout   time.Duration `json:"timeout"`
	Branch    string        `json:"branch"`
	// Network is set when the spec asks for the network (change.network).
	Network bool `json:"network,omitempty"`
}

// PrepareResult is a prepared target: its repository, and either nothing
// to change (Unchanged) or the branch's head commit.
type PrepareResult struct {
	Repo      githost.Repo `json:"repo"`
	Unchanged bool         `json:"unchanged,omitempty"`
	Head      string       `json:"head,omitempty"`
	// Reused is set when the branch already held the change: nothing pushed.
	Reused bool   `json:"reused,omitempty"`
	Output string `json:"output,omitempty"`
}

// Prepare clones the default branch of the target's repository into a
// scratch folder, runs the change script there in the sandbox (sh -c as an
// unprivileged user, the target's Env plus PATH, HOME and LANG, no network
// unless asked and allowed, under Timeout and the sandbox's limits, every
// process of it killed at the timeout)
// and, when the tree changed, commits it as Backlot with the change
// request's title and pushes it to Branch (forced: the branch is the
// migration's). When the branch already holds the same tree, it is reused
// and nothing is pushed. No change at all answers Unchanged: the repository
// is already migrated. A script that fails or times out is a non-retryable
// ErrTypeScriptFailed error carrying its output; a repository the host does
// not hold is a non-retryable ErrTypeRepoNotFound. It heartbeats every few
// seconds throughout, and removes the scratch folder.
func (a *Activities) Prepare(ctx context.Context, in PrepareInput) (PrepareResult, error) {
	defer heartbeat(ctx)()
	w, err := checkout(ctx, a.Host, a.WorkDir, in.Target)
	if err != nil {
		if errors.Is(err, githost.ErrNotFound) {
			return PrepareResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRepoNotFound, err)
		}
		return PrepareResult{}, err
	}
	defer w.remove()
	runner, err := a.scripts(ctx)
	if err != nil {
		return PrepareResult{}, err
	}
	out, changed, err := w.apply(ctx, runner, in.Script, in.Target.Env(), in.Network, in.Timeout)
	if err != nil {
		var se *ScriptError
		if errors.As(err, &se) {
			return PrepareResult{}, temporal.NewNonRetryableApplicationError(se.Error(), ErrTypeScriptFailed, nil, ScriptFailure{Output: se.Output})
		}
		return PrepareResult{}, err
	}
	res := PrepareResult{Repo: w.repo, Output: out}
	if !changed {
		res.Unchanged = true
		return res, nil
	}
	if _, err := git(ctx, w.dir, "commit", "-q", "--no-verify", "-m", in.Target.Title); err != nil {
		return PrepareResult{}, err
	}
	ids, err := git(ctx, w.dir, "rev-parse", "HEAD", "HEAD^{tree}")
	if err != nil {
		return PrepareResult{}, err
	}
	head, tree, _ := strings.Cut(ids, "\n")
	remoteRef := "refs/remotes/origin/" + in.Branch
	if _, err := gitAuth(ctx, w.dir, w.auth, "fetch", "-q", "--depth", "1", "origin", "+refs/heads/"+in.Branch+":"+remoteRef); err == nil {
		if t, err := git(ctx, w.dir, "rev-parse", remoteRef+"^{tree}"); err == nil && t == tree {
			res.Head, err = git(ctx, w.dir, "rev-parse", remoteRef)
			res.Reused = true
			return res, err
		}
	} else if !strings.Contains(err.Error(), "couldn't find remote ref") {
		return PrepareResult{}, err
	}
	if _, err := gitAuth(ctx, w.dir, w.auth, "push", "-q", "--force", "origin", "HEAD:refs/heads/"+in.Branch); err != nil {
		return PrepareResult{}, err
	}
	res.Head = head
	return res, nil
}

// heartbeat records the activity's heartbeat every beatEvery until the
// function it returns is called (a no-op outside an activity).
func heartbeat(ctx context.Context) func() {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(beatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// OpenInput is the change request OpenChange opens.
type OpenInput struct {
	Repo   githost.Repo `json:"repo"`
	Branch string       `json:"branch"`
	Title  string       `json:"title"`
	Body   string       `json:"body,omitempty"`
}

// OpenChange opens the change request of the branch, or returns the open
// one (the host's OpenChange is idempotent per branch).
func (a *Activities) OpenChange(ctx context.Context, in OpenInput) (githost.Change, error) {
	return a.Host.OpenChange(ctx, in.Repo, in.Branch, in.Title, in.Body)
}

// TrackItem is one change request to read or close; Index is its target's
// place in Input.Targets.
type TrackItem struct {
	Index  int          `json:"index"`
	Repo   githost.Repo `json:"repo"`
	Number int          `json:"number"`
}

// TrackInput is a batch of change requests to read, and whether to merge
// those whose checks passed.
type TrackInput struct {
	Items []TrackItem `json:"items"`
	Merge bool        `json:"merge,omitempty"`
}

// TrackResult is one change request as it is now. Error is a failure to
// read it that may pass (tried again at the next poll); Gone is set when the
// host no longer holds it; MergeError is a failed merge.
type TrackResult struct {
	Index      int            `json:"index"`
	Change     githost.Change `json:"change"`
	Error      string         `json:"error,omitempty"`
	Gone       bool           `json:"gone,omitempty"`
	MergeError string         `json:"mergeError,omitempty"`
	// Merged is set when this activity merged it.
	Merged bool `json:"merged,omitempty"`
}

// Track reads each change request with its checks and, with Merge, merges
// the open ones whose checks passed. One request's failure is its result's
// Error and does not fail the others; only a cancelled context fails it.
func (a *Activities) Track(ctx context.Context, in TrackInput) ([]TrackResult, error) {
	out := make([]TrackResult, 0, len(in.Items))
	for _, it := range in.Items {
		activity.RecordHeartbeat(ctx, it.Index)
		r := TrackResult{Index: it.Index}
		c, err := a.Host.Change(ctx, it.Repo, it.Number)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, githost.ErrNotFound):
			r.Gone, r.Error = true, err.Error()
		case err != nil:
			r.Error = err.Error()
		default:
			r.Change = c
			if in.Merge && c.State == githost.ChangeOpen && c.Checks == githost.ChecksPassed {
				m, err := a.Host.MergeChange(ctx, it.Repo, it.Number)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if err != nil {
					r.MergeError = err.Error()
				} else {
					m.Checks, m.URL = c.Checks, firstNonEmpty(m.URL, c.URL)
					r.Change, r.Merged = m, true
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// CloseChanges closes each change request (a merged one stays merged and
// is answered as it is); one's failure is its result's Error.
func (a *Activities) CloseChanges(ctx context.Context, items []TrackItem) ([]TrackResult, error) {
	out := make([]TrackResult, 0, len(items))
	for _, it := range items {
		activity.RecordHeartbeat(ctx, it.Index)
		r := TrackResult{Index: it.Index}
		c, err := a.Host.CloseChange(ctx, it.Repo, it.Number)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			r.Error, r.Gone = err.Error(), errors.Is(err, githost.ErrNotFound)
		} else {
			r.Change = c
		}
		out = append(out, r)
	}
	return out, nil
}

// RecordItem is one event to record: a target's transition or the
// migration's own, observed at At.
type RecordItem struct {
	Target    *event.MigrationTargetChanged `json:"target,omitempty"`
	Migration *event.MigrationChanged       `json:"migration,omitempty"`
	At        time.Time                     `json:"at"`
	// Seq numbers the migration's events, across its runs.
	Seq int `json:"seq"`
}

// RecordInput is a batch of events of one migration.
type RecordInput struct {
	Migration string       `json:"migration"`
	Actor     string       `json:"actor,omitempty"`
	Items     []RecordItem `json:"items"`
	// Seed names the chain of runs (workflow id and first run id); with an
	// item's Seq it makes the event's id.
	Seed string `json:"seed,omitempty"`
}

// RecordEvents builds the envelopes of the items (TypeMigrationTargetChanged
// about the target's entity, TypeMigrationChanged about
// event.MigrationSubject; the migration's id as correlation; the input's
// actor or else Activities.Actor) and appends them with Record, in order.
// Event ids derive from Seed and the items' Seq, so a retried batch, or a
// batch recorded again after a crash, carries the same ids.
func (a *Activities) RecordEvents(ctx context.Context, in RecordInput) error {
	if a.Record == nil || len(in.Items) == 0 {
		return nil
	}
	actor := firstNonEmpty(in.Actor, a.Actor)
	seed := firstNonEmpty(in.Seed, in.Migration)
	evs := make([]event.Envelope, 0, len(in.Items))
	for _, it := range in.Items {
		meta := event.Meta{Actor: actor, CorrelationID: in.Migration, Time: it.At}
		var ev event.Envelope
		var err error
		switch {
		case it.Target != nil:
			ev, err = event.New(event.TypeMigrationTargetChanged, it.Target.Entity, it.Target, meta)
		case it.Migration != nil:
			ev, err = event.New(event.TypeMigrationChanged, event.MigrationSubject(in.Migration), it.Migration, meta)
		default:
			continue
		}
		if err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), "BadEvent", err)
		}
		ev.ID = eventID(fmt.Sprintf("%s/%d", seed, it.Seq))
		evs = append(evs, ev)
	}
	return a.Record(ctx, evs)
}

// eventID is a version-4-shaped UUID derived from seed.
func eventID(seed string) string {
	b := sha256.Sum256([]byte(seed))
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// workspace is a target's checkout in its own scratch folder.
type workspace struct {
	root, dir string
	repo      githost.Repo
	// auth is the environment that authenticates git to the remote.
	auth []string
}

// checkout finds the target's repository on host and clones its default
// branch (depth 1) into a new scratch folder under workDir.
func checkout(ctx context.Context, host githost.Host, workDir string, t TargetInput) (*workspace, error) {
	repo, err := host.RepoFor(ctx, t.Repo)
	if err != nil {
		return nil, err
	}
	if workDir != "" {
		if err := os.MkdirAll(workDir, 0o755); err != nil {
			return nil, err
		}
	}
	root, err := os.MkdirTemp(workDir, "migration-")
	if err != nil {
		return nil, err
	}
	// git clone runs in root and the script in root/repo: a relative
	// scratch folder would name a different place for each of them.
	if root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	w := &workspace{root: root, dir: filepath.Join(root, "repo"), repo: repo, auth: githost.GitAuthEnv(host, repo.RemoteURL)}
	args := []string{"clone", "-q", "--depth", "1"}
	if repo.DefaultBranch != "" {
		args = append(args, "--branch", repo.DefaultBranch)
	}
	if _, err := gitAuth(ctx, root, w.auth, append(args, repo.RemoteURL, w.dir)...); err != nil {
		w.remove()
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(root, "home"), 0o755); err != nil {
		w.remove()
		return nil, err
	}
	return w, nil
}

func (w *workspace) remove() { os.RemoveAll(w.root) }

// apply runs the script in the checkout and stages everything it changed;
// changed reports whether the staged tree differs from the default branch.
func (w *workspace) apply(ctx context.Context, r *sandbox.Runner, script string, env []string, network bool, timeout time.Duration) (output string, changed bool, err error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	out, err := runScript(ctx, r, w.dir, filepath.Join(w.root, "home"), script, env, network, timeout)
	if err != nil {
		return out, false, err
	}
	if _, err := git(ctx, w.dir, "add", "-A"); err != nil {
		return out, false, err
	}
	status, err := git(ctx, w.dir, "status", "--porcelain")
	return out, status != "", err
}
