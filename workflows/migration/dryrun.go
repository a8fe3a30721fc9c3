package migration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DryRunInput is a dry run: the spec's script, network and timeout, the
// targets to preview and the bound of each diff.
type DryRunInput struct {
	Migration string        `json:"migration"`
	Script    string        `json:"script"`
	Network   bool          `json:"network,omitempty"`
	Timeout   time.Duration `json:"timeout"`
	Targets   []TargetInput `json:"targets"`
	// MaxDiff bounds each Preview's diff in bytes; zero is MaxDiff.
	MaxDiff int `json:"maxDiff,omitempty"`
}

// PreviewInput is one target of a dry run.
type PreviewInput struct {
	Migration string        `json:"migration"`
	Script    string        `json:"script"`
	Network   bool          `json:"network,omitempty"`
	Timeout   time.Duration `json:"timeout"`
	Target    TargetInput   `json:"target"`
	MaxDiff   int           `json:"maxDiff,omitempty"`
}

// NewDryRunInput is the dry run of spec (already validated) over targets,
// each diff bounded by maxDiff bytes (zero: MaxDiff).
func NewDryRunInput(spec *Spec, targets []Target, maxDiff int) (DryRunInput, error) {
	timeout, err := spec.Timeout()
	if err != nil {
		return DryRunInput{}, err
	}
	in := DryRunInput{Migration: spec.Metadata.Name, Script: spec.Spec.Change.Script, Network: spec.Spec.Change.Network,
		Timeout: timeout, MaxDiff: maxDiff, Targets: make([]TargetInput, 0, len(targets))}
	for _, t := range targets {
		in.Targets = append(in.Targets, TargetInput{Ref: t.Ref, Name: t.Name, Owner: t.Owner, Repo: t.Repo})
	}
	return in, nil
}

// DryRunWorkflow (registered as DryRunWorkflowName) previews each target of
// in with one ActivityPreview on the migration task queue, so scripts run
// on workers, in their sandbox, and never in the API process. It answers
// the previews in the order of the targets; one target's failure is its
// Preview's Error.
func DryRunWorkflow(ctx workflow.Context, in DryRunInput) ([]Preview, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout + 10*time.Minute,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	fs := make([]workflow.Future, len(in.Targets))
	for i, t := range in.Targets {
		fs[i] = workflow.ExecuteActivity(actx, ActivityPreview, PreviewInput{Migration: in.Migration, Script: in.Script,
			Network: in.Network, Timeout: timeout, Target: t, MaxDiff: in.MaxDiff})
	}
	out := make([]Preview, len(in.Targets))
	for i, f := range fs {
		if err := f.Get(ctx, &out[i]); err != nil {
			out[i] = Preview{Ref: in.Targets[i].Ref, Repo: in.Targets[i].Repo, Error: err.Error()}
		}
	}
	return out, nil
}

// Preview (registered as ActivityPreview) clones the target's default
// branch into a scratch folder, runs the script in the sandbox as a
// migration would, and returns the staged diff (at most in.MaxDiff bytes)
// without pushing anything. A failure to preview is the Preview's Error;
// only a cancellation is an error.
func (a *Activities) Preview(ctx context.Context, in PreviewInput) (Preview, error) {
	defer heartbeat(ctx)()
	p := Preview{Ref: in.Target.Ref, Repo: in.Target.Repo}
	runner, err := a.scripts(ctx)
	if err != nil {
		p.Error = err.Error()
		return p, nil
	}
	w, err := checkout(ctx, a.Host, a.WorkDir, in.Target)
	if err != nil {
		p.Error = err.Error()
		return p, ctx.Err()
	}
	defer w.remove()
	out, changed, err := w.apply(ctx, runner, in.Script, in.Target.Env(), in.Network, in.Timeout)
	p.Output = out
	if err != nil {
		p.Error = err.Error()
		return p, ctx.Err()
	}
	if !changed {
		p.Unchanged = true
		return p, nil
	}
	diff, err := git(ctx, w.dir, "diff", "--cached", "--no-color", "--no-ext-diff")
	if err != nil {
		p.Error = fmt.Sprintf("diff: %v", err)
		return p, ctx.Err()
	}
	maxDiff := in.MaxDiff
	if maxDiff <= 0 {
		maxDiff = MaxDiff
	}
	if len(diff) > maxDiff {
		diff, p.Truncated = diff[:maxDiff], true
	}
	p.Diff = diff + "\n"
	return p, nil
}

// DryRun runs DryRunWorkflow for in on TaskQueue and waits for its
// previews: the scripts run on a worker. The workflow's id is
// "dryrun-<migration>-<random>".
func DryRun(ctx context.Context, c client.Client, in DryRunInput) ([]Preview, error) {
	if c == nil {
		return nil, errors.New("migration: a dry run without a Temporal client")
	}
	var b [4]byte
	rand.Read(b[:])
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dryrun-" + in.Migration + "-" + hex.EncodeToString(b[:]),
		TaskQueue: TaskQueue, WorkflowExecutionTimeout: timeout + 15*time.Minute}, DryRunWorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("start dry run: %w", err)
	}
	var out []Preview
	if err := run.Get(ctx, &out); err != nil {
		return nil, fmt.Errorf("dry run %s: %w", run.GetID(), err)
	}
	return out, nil
}
