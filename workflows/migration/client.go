package migration

import (
	"context"
	"errors"

	"go.temporal.io/sdk/client"
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
	// Diff is the unified diff of the change (git diff), at most the dry
	// run's MaxDiff bytes.
	Diff      string `json:"diff,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// Output is the end of the script's combined output.
	Output string `json:"output,omitempty"`
	// Error says why this target could not be previewed.
	Error string `json:"error,omitempty"`
}

// MaxDiff is the default bound of a Preview's diff.
const MaxDiff = 256 << 10
