package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"backlot.dev/backlot/domain/fault"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// ErrNoTask is returned for a task id no workflow has.
var ErrNoTask = fault.Sentinel(fault.NotFound, "scaffolder: no such task")

// Tasks starts and inspects task workflows through a Temporal client that
// uses NewDataConverter's converter.
type Tasks struct {
	Client client.Client
	// TaskQueue defaults to TaskQueue.
	TaskQueue string
	// Converter is the client's data converter (NewDataConverter's), to read
	// inputs and memos back.
	Converter converter.DataConverter
}

func (t *Tasks) queue() string {
	if t.TaskQueue == "" {
		return TaskQueue
	}
	return t.TaskQueue
}

// Start starts the task's workflow, with the task id as workflow id and the
// template, user and creation time in its memo for listings.
func (t *Tasks) Start(ctx context.Context, in TaskInput, secrets Secrets) error {
	_, err := t.startRun(ctx, in, secrets)
	return err
}

// startRun starts a run of the task's workflow and returns it. A run of the
// id still running is an error (serviceerror.WorkflowExecutionAlreadyStarted)
// rather than that run handed back as if it were new.
func (t *Tasks) startRun(ctx context.Context, in TaskInput, secrets Secrets) (client.WorkflowRun, error) {
	if secrets == nil {
		secrets = Secrets{}
	}
	return t.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       in.ID,
		TaskQueue:                                t.queue(),
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		Memo:                                     map[string]any{"template": in.Template.Ref, "user": in.User.Ref, "createdAt": in.CreatedAt.Format(time.RFC3339Nano)},
	}, WorkflowName, in, secrets)
}

// State answers the task's state: its workflow's QueryState, which works on
// running and finished tasks alike.
func (t *Tasks) State(ctx context.Context, id string) (TaskState, error) {
	v, err := t.Client.QueryWorkflow(ctx, id, "", QueryState)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return TaskState{}, ErrNoTask
		}
		return TaskState{}, err
	}
	var st TaskState
	if err := v.Get(&st); err != nil {
		return TaskState{}, err
	}
	return st, nil
}

// Cancel asks the task to stop; its current step is cancelled.
func (t *Tasks) Cancel(ctx context.Context, id string) error {
	err := t.Client.CancelWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ErrNoTask
	}
	return err
}

// Decide approves or rejects the backlot:approval step the task waits in.
func (t *Tasks) Decide(ctx context.Context, id string, a Approval) error {
	st, err := t.State(ctx, id)
	if err != nil {
		return err
	}
	if st.Waiting == nil {
		return fmt.Errorf("task %s waits for no approval (status %s)", id, st.Status)
	}
	return t.Client.SignalWorkflow(ctx, id, "", SignalApproval, a)
}

// Retry starts a failed or cancelled task again from the step that failed:
// a new run of the same workflow id whose input carries the outputs of the
// steps that completed, so they are not run again. The secrets are read
// back from the first run's input, sealed as they were.
//
// A run's state says failed or cancelled before the run has ended: it still
// records its end in the catalog (an activity). Retry waits for that run to
// close before it starts the next one, and starts it so that a run still
// running is an error: otherwise the start would hand back the ending run,
// no new run would begin, and the task would stay failed or cancelled.
func (t *Tasks) Retry(ctx context.Context, id string) error {
	st, err := t.State(ctx, id)
	if err != nil {
		return err
	}
	if st.Status != StatusFailed && st.Status != StatusCancelled {
		return fault.New(fault.Conflict, id, "task %s is %s; only a failed or cancelled task can be retried", id, st.Status)
	}
	if err := t.awaitClose(ctx, id); err != nil {
		return err
	}
	// The state the run ended with (recording its end may have logged).
	if st, err = t.State(ctx, id); err != nil {
		return err
	}
	in, secrets, err := t.input(ctx, id)
	if err != nil {
		return err
	}
	in.Resume = &Resume{Steps: st.StepOutputs, Log: st.Log, Entities: st.Entities, Attempt: st.Attempt, Built: st.Built}
	for _, s := range st.Steps {
		if s.Status == StatusSkipped {
			in.Resume.Skipped = append(in.Resume.Skipped, s.ID)
		}
	}
	run, err := t.startRun(ctx, in, secrets)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return fault.New(fault.Conflict, id, "task %s was retried by someone else at the same time", id)
		}
		return err
	}
	// The new run is the task's current run from here on: a read of the
	// task waits for its first workflow task instead of finding the failed
	// run's end. Answer once the new run answers queries, so that the read
	// right after the retry does not wait.
	deadline := time.Now().Add(retryVisibleWithin)
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := t.Client.QueryWorkflow(qctx, id, run.GetRunID(), QueryState)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return nil // a slow worker answers the new run's queries a little later
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// retryVisibleWithin bounds how long Retry waits for the new run to answer
// queries.
const retryVisibleWithin = 30 * time.Second

// retryCloseWithin bounds how long Retry waits for the run it retries to
// end (to record its end in the catalog) before it refuses.
const retryCloseWithin = 2 * time.Minute

// awaitClose waits until the task's current run has ended, up to
// retryCloseWithin; a run still running then is a fault.Conflict.
func (t *Tasks) awaitClose(ctx context.Context, id string) error {
	desc, err := t.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return ErrNoTask
		}
		return err
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, retryCloseWithin)
	defer cancel()
	// Get long-polls the run's close event; the run's own failure is what
	// is retried, not an error here.
	_ = t.Client.GetWorkflow(wctx, id, info.GetExecution().GetRunId()).Get(wctx, nil)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	desc, err = t.Client.DescribeWorkflowExecution(ctx, id, info.GetExecution().GetRunId())
	if err != nil {
		return err
	}
	if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fault.New(fault.Conflict, id, "task %s is still running after %s; only a failed or cancelled task can be retried", id, retryCloseWithin)
	}
	return nil
}

// input reads the task's input and secrets from its latest run's first event.
func (t *Tasks) input(ctx context.Context, id string) (TaskInput, Secrets, error) {
	it := t.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return TaskInput{}, nil, ErrNoTask
	}
	ev, err := it.Next()
	if err != nil {
		return TaskInput{}, nil, err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return TaskInput{}, nil, fmt.Errorf("task %s: history starts with %s", id, ev.GetEventType())
	}
	var in TaskInput
	var secrets Secrets
	if err := t.converter().FromPayloads(attrs.GetInput(), &in, &secrets); err != nil {
		return TaskInput{}, nil, fmt.Errorf("task %s: read its input: %w", id, err)
	}
	return in, secrets, nil
}

func (t *Tasks) converter() converter.DataConverter {
	if t.Converter == nil {
		return converter.GetDefaultDataConverter()
	}
	return t.Converter
}

// TaskSummary is a task as listings show it.
type TaskSummary struct {
	ID        string    `json:"id"`
	Template  string    `json:"template"`
	User      string    `json:"user"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
}

// List lists the tasks, newest first, up to limit (default 100).
func (t *Tasks) List(ctx context.Context, limit int) ([]TaskSummary, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []TaskSummary
	var token []byte
	for len(out) < limit {
		resp, err := t.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s'", WorkflowName), PageSize: int32(min(limit, 1000)), NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Executions {
			s := TaskSummary{ID: e.GetExecution().GetWorkflowId(), Status: statusOf(e.GetStatus()), CreatedAt: e.GetStartTime().AsTime()}
			if e.GetCloseTime() != nil {
				s.EndedAt = e.GetCloseTime().AsTime()
			}
			fields := e.GetMemo().GetFields()
			dc := t.converter()
			if p := fields["template"]; p != nil {
				_ = dc.FromPayload(p, &s.Template)
			}
			if p := fields["user"]; p != nil {
				_ = dc.FromPayload(p, &s.User)
			}
			var created string
			if p := fields["createdAt"]; p != nil && dc.FromPayload(p, &created) == nil {
				if at, err := time.Parse(time.RFC3339Nano, created); err == nil {
					s.CreatedAt = at
				}
			}
			out = append(out, s)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return dedupeRuns(out), nil
}

// dedupeRuns keeps the latest run of each task (a retried task has several).
func dedupeRuns(in []TaskSummary) []TaskSummary {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	return out
}

// statusOf maps a workflow's status to a task status.
func statusOf(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return StatusProcessing
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return StatusCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return StatusCancelled
	}
	return StatusFailed
}
