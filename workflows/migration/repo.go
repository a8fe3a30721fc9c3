package migration

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/workflows/githost"
)

// RepoInput is one target's child workflow input.
type RepoInput struct {
	Migration string        `json:"migration"`
	Target    TargetInput   `json:"target"`
	Script    string        `json:"script"`
	Timeout   time.Duration `json:"timeout"`
	Branch    string        `json:"branch"`
	// Network is set when the spec asks for the network (change.network).
	Network bool `json:"network,omitempty"`
}

// RepoResult is how a target's child workflow ended: unchanged (already
// migrated), opened (with its change request) or failed (with the error and
// the script's output).
type RepoResult struct {
	State  TargetState    `json:"state"`
	Repo   githost.Repo   `json:"repo"`
	Change githost.Change `json:"change"`
	Error  string         `json:"error,omitempty"`
	Output string         `json:"output,omitempty"`
}

// RepoWorkflow (registered as RepoWorkflowName) migrates one target's
// repository up to its change request: Prepare (clone, script, push; git
// and host errors are retried three times, a failing script is not), then
// OpenChange. Its failures are its result's state, not an error; only a
// cancellation is an error. Tracking the change request until it is merged
// is the parent's, so a child is short and the window's slot frees once the
// change request is open.
func RepoWorkflow(ctx workflow.Context, in RepoInput) (RepoResult, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout + 10*time.Minute,
		// A worker that dies mid-clone is noticed within this, not the
		// start-to-close timeout: Prepare heartbeats while it works.
		HeartbeatTimeout: heartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{ErrTypeScriptFailed, ErrTypeRepoNotFound}},
	})
	var p PrepareResult
	err := workflow.ExecuteActivity(pctx, ActivityPrepare, PrepareInput{Migration: in.Migration, Target: in.Target, Script: in.Script, Timeout: timeout, Branch: in.Branch, Network: in.Network}).Get(ctx, &p)
	if err != nil {
		return failed(err)
	}
	if p.Unchanged {
		return RepoResult{State: StateUnchanged, Repo: p.Repo}, nil
	}
	octx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: shortActivityTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 5},
	})
	var c githost.Change
	if err := workflow.ExecuteActivity(octx, ActivityOpenChange, OpenInput{Repo: p.Repo, Branch: in.Branch, Title: in.Target.Title, Body: in.Target.Body}).Get(ctx, &c); err != nil {
		r, err := failed(err)
		r.Repo = p.Repo
		return r, err
	}
	return RepoResult{State: StateOpened, Repo: p.Repo, Change: c}, nil
}

// failed turns an activity's error into a failed result (with a script's
// output), or returns a cancellation as it is.
func failed(err error) (RepoResult, error) {
	if temporal.IsCanceledError(err) {
		return RepoResult{}, err
	}
	r := RepoResult{State: StateFailed, Error: err.Error()}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		r.Error = ae.Message()
		var sf ScriptFailure
		if ae.Type() == ErrTypeScriptFailed && ae.HasDetails() && ae.Details(&sf) == nil {
			r.Output = sf.Output
		}
	}
	return r, nil
}
