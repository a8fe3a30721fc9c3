package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"backlot.dev/backlot/workflows/githost"
)

// Start starts the migration workflow of in, with the migration's id as the
// workflow id, on TaskQueue. Starting an id that runs already is an error.
func Start(ctx context.Context, c client.Client, in Input) (client.WorkflowRun, error) {
	if in.ID == "" {
		return nil, errors.New("migration: an input without an id")
	}
	return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: in.ID, TaskQueue: TaskQueue}, WorkflowName, in)
}

// Progress asks a running (or recently closed) migration for its Report.
func Progress(ctx context.Context, c client.Client, id string) (Report, error) {
	v, err := c.QueryWorkflow(ctx, id, "", QueryProgress)
	if err != nil {
		return Report{}, err
	}
	var r Report
	return r, v.Get(&r)
}

// Pause sends SignalPause: no new target starts until Resume.
func Pause(ctx context.Context, c client.Client, id string) error {
	return c.SignalWorkflow(ctx, id, "", SignalPause, nil)
}

// Resume sends SignalResume: targets start again, and a rollout stopped by a
// wave's failures goes on with the next wave.
func Resume(ctx context.Context, c client.Client, id string) error {
	return c.SignalWorkflow(ctx, id, "", SignalResume, nil)
}

// Cancel sends SignalCancel with a reason: running targets are cancelled,
// the others never start, and the migration ends.
func Cancel(ctx context.Context, c client.Client, id, reason string) error {
	return c.SignalWorkflow(ctx, id, "", SignalCancel, reason)
}

// RetryFailed sends SignalRetryFailed: the failed targets run again.
func RetryFailed(ctx context.Context, c client.Client, id string) error {
	return c.SignalWorkflow(ctx, id, "", SignalRetryFailed, nil)
}

// ClosePRs sends SignalClosePRs: every open change request is closed.
func ClosePRs(ctx context.Context, c client.Client, id string) error {
	return c.SignalWorkflow(ctx, id, "", SignalClosePRs, nil)
}

// ChangeUpdated sends SignalChangeUpdated, so the change requests u names
// are read now rather than at the next poll (for a host's webhook).
func ChangeUpdated(ctx context.Context, c client.Client, id string, u ChangeUpdate) error {
	return c.SignalWorkflow(ctx, id, "", SignalChangeUpdated, u)
}

// Preview is what a migration would change in one target's repository.
type Preview struct {
	Ref  string `json:"ref"`
	Repo string `json:"repo"`
	// Unchanged is set when the script changes nothing (already migrated).
	Unchanged bool `json:"unchanged,omitempty"`
	// Diff is the unified diff of the change (git diff), at most MaxDiff bytes.
	Diff      string `json:"diff,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// Output is the end of the script's combined output.
	Output string `json:"output,omitempty"`
	// Error says why this target could not be previewed.
	Error string `json:"error,omitempty"`
}

// MaxDiff bounds a Preview's diff.
const MaxDiff = 256 << 10

// dryRunConcurrency bounds the targets a DryRun works on at once.
const dryRunConcurrency = 4

// DryRun previews spec on targets without pushing anything: for each, it
// clones the default branch into a scratch folder under workDir, runs the
// script as a migration would, and returns the diff, in the order of
// targets. One target's failure is its Preview's Error; only a cancelled
// ctx fails the whole.
func DryRun(ctx context.Context, host githost.Host, workDir string, spec *Spec, targets []Target) ([]Preview, error) {
	timeout, err := spec.Timeout()
	if err != nil {
		return nil, err
	}
	out := make([]Preview, len(targets))
	sem := make(chan struct{}, dryRunConcurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = preview(ctx, host, workDir, spec.Spec.Change.Script, timeout, TargetInput{Ref: t.Ref, Name: t.Name, Owner: t.Owner, Repo: t.Repo})
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

func preview(ctx context.Context, host githost.Host, workDir, script string, timeout time.Duration, t TargetInput) Preview {
	p := Preview{Ref: t.Ref, Repo: t.Repo}
	w, err := checkout(ctx, host, workDir, t)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer w.remove()
	out, changed, err := w.apply(ctx, script, t.Env(), timeout, nil)
	p.Output = out
	if err != nil {
		p.Error = err.Error()
		return p
	}
	if !changed {
		p.Unchanged = true
		return p
	}
	diff, err := git(ctx, w.dir, "diff", "--cached", "--no-color", "--no-ext-diff")
	if err != nil {
		p.Error = fmt.Sprintf("diff: %v", err)
		return p
	}
	if len(diff) > MaxDiff {
		diff, p.Truncated = diff[:MaxDiff], true
	}
	p.Diff = diff + "\n"
	return p
}
