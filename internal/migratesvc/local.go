package migratesvc

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

// LocalHost is the local git host behind /api/git. A change request merged
// or closed through it wakes the running migrations at once, as a GitHub
// webhook would, instead of at their next poll.
type LocalHost struct {
	Local *githost.Local
	// Client, when set, reaches the migrations to wake.
	Client client.Client
}

// Repos lists the repositories.
func (h LocalHost) Repos(ctx context.Context) ([]githost.Repo, error) { return h.Local.Repos(ctx) }

// Changes lists a repository's change requests.
func (h LocalHost) Changes(ctx context.Context, owner, name string) ([]githost.Change, error) {
	r, err := h.Local.Repo(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	return h.Local.Changes(ctx, r)
}

// Merge merges a change request and wakes the migrations.
func (h LocalHost) Merge(ctx context.Context, owner, name string, number int) (githost.Change, error) {
	return h.decide(ctx, owner, name, number, h.Local.MergeChange)
}

// Close closes a change request and wakes the migrations.
func (h LocalHost) Close(ctx context.Context, owner, name string, number int) (githost.Change, error) {
	return h.decide(ctx, owner, name, number, h.Local.CloseChange)
}

func (h LocalHost) decide(ctx context.Context, owner, name string, number int, op func(context.Context, githost.Repo, int) (githost.Change, error)) (githost.Change, error) {
	r, err := h.Local.Repo(ctx, owner, name)
	if err != nil {
		return githost.Change{}, err
	}
	c, err := op(ctx, r, number)
	if err != nil {
		return c, err
	}
	if h.Client != nil {
		_ = wake(ctx, h.Client, migration.ChangeUpdate{Repo: owner + "/" + name, Number: number})
	}
	return c, nil
}

// wake signals every running migration that a change request changed; a
// migration that does not follow it ignores the signal.
func wake(ctx context.Context, c client.Client, u migration.ChangeUpdate) error {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", migration.WorkflowName)})
	if err != nil {
		return err
	}
	for _, e := range resp.Executions {
		if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			_ = migration.ChangeUpdated(ctx, c, e.GetExecution().GetWorkflowId(), u)
		}
	}
	return nil
}
