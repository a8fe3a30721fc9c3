package scaffolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the Temporal task queue Backlot's scaffolder workers poll.
const TaskQueue = "backlot-scaffolder"

// WorkflowName is the name the task workflow is registered under.
const WorkflowName = "scaffolder-task"

// The names of the workflow's query, signals and the activity that records
// catalog events.
const (
	// QueryState answers the task's TaskState.
	QueryState = "state"
	// SignalApproval carries an Approval to a backlot:approval step.
	SignalApproval = "approval"
	// RecordActivity appends the task's start and end to the catalog's log.
	RecordActivity = "backlot:record-task"
	// CleanupActivity removes the task's workspace.
	CleanupActivity = "backlot:cleanup"
)

// The statuses of a task and of its steps, as Backstage names them.
const (
	StatusOpen       = "open"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusSkipped    = "skipped"
)

// TemplateInfo is the template a task runs, as the catalog held it when the
// task was created.
type TemplateInfo struct {
	// Ref is the template entity's canonical ref.
	Ref string `json:"ref"`
	// Version is the hash of the entity body.
	Version string `json:"version"`
	// Location is where the template was read from (its managed-by-location
	// annotation, e.g. file:/srv/templates/go/template.yaml); fetch actions
	// resolve relative urls against it.
	Location string `json:"location"`
	// Body is the entity body.
	Body json.RawMessage `json:"body"`
}

// UserInfo is who runs a task: ${{ user.ref }} and ${{ user.entity }}.
type UserInfo struct {
	Ref    string         `json:"ref"`
	Entity map[string]any `json:"entity,omitempty"`
}

// TaskInput starts a task workflow.
type TaskInput struct {
	// ID is the task's id, also the workflow id.
	ID string `json:"id"`
	// Template is the template to run.
	Template TemplateInfo `json:"template"`
	// Parameters are the form's values, checked against the template.
	Parameters map[string]any `json:"parameters"`
	// User runs the task.
	User UserInfo `json:"user"`
	// Resume, set by retry, carries the steps a failed run completed: they
	// are not run again.
	Resume *Resume `json:"resume,omitempty"`
	// CreatedAt is when the task was first created.
	CreatedAt time.Time `json:"createdAt"`
}

// Resume is what a retried task keeps of the run that failed.
type Resume struct {
	// Steps are the completed steps' outputs by step id.
	Steps map[string]map[string]any `json:"steps"`
	// Skipped are the ids of steps the failed run skipped.
	Skipped []string `json:"skipped,omitempty"`
	// Log is the failed run's log, kept at the head of the new one.
	Log []LogLine `json:"log"`
	// Entities are the refs registered before the failure.
	Entities []string `json:"entities,omitempty"`
	// Built are the workspace steps the failed run completed.
	Built []ActionInput `json:"built,omitempty"`
	// Attempt counts the runs, 1 for the first.
	Attempt int `json:"attempt"`
}

// Secrets are values a template reads as ${{ secrets.name }}. They travel
// to Temporal only sealed by the payload codec (see NewDataConverter) and are
// never written to the catalog's log.
type Secrets map[string]string

// LogLine is one line of a task's log, in Backstage's eventstream shape.
type LogLine struct {
	CreatedAt time.Time `json:"createdAt"`
	StepID    string    `json:"stepId,omitempty"`
	Status    string    `json:"status,omitempty"`
	Message   string    `json:"message"`
}

// StepState is where one step stands.
type StepState struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Action    string     `json:"action"`
	Status    string     `json:"status"`
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// Approval answers a backlot:approval step.
type Approval struct {
	// Approved is the decision.
	Approved bool `json:"approved"`
	// By is the ref of who decided.
	By string `json:"by"`
	// Comment says why.
	Comment string `json:"comment,omitempty"`
}

// Waiting is the approval a task waits for.
type Waiting struct {
	StepID  string    `json:"stepId"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
	// Approvers are the users and groups the step names (input.approvers)
	// as who decides it; the permission policy reads them.
	Approvers []string `json:"approvers,omitempty"`
	// SelfApproval is the step's input.selfApproval: whether the task's
	// creator may decide it too.
	SelfApproval bool `json:"selfApproval,omitempty"`
}

// TaskState is a task as its workflow knows it: the answer of QueryState and
// the workflow's result.
type TaskState struct {
	ID              string         `json:"id"`
	Template        string         `json:"template"`
	TemplateVersion string         `json:"templateVersion"`
	User            string         `json:"user"`
	Status          string         `json:"status"`
	Steps           []StepState    `json:"steps"`
	Log             []LogLine      `json:"log"`
	Output          map[string]any `json:"output,omitempty"`
	Error           string         `json:"error,omitempty"`
	FailedStep      string         `json:"failedStep,omitempty"`
	Entities        []string       `json:"entities"`
	Waiting         *Waiting       `json:"waiting,omitempty"`
	// StepOutputs are the completed steps' outputs, kept for retry.
	StepOutputs map[string]map[string]any `json:"stepOutputs"`
	// Built are the workspace steps completed, kept for retry.
	Built   []ActionInput `json:"built,omitempty"`
	Attempt int           `json:"attempt"`
}

// ActionInput is what the workflow gives an action's activity. The input is
// rendered inside the activity, where the secrets are open, so rendered
// secrets never reach Temporal's history.
type ActionInput struct {
	Task     string         `json:"task"`
	StepID   string         `json:"stepId"`
	Action   string         `json:"action"`
	Template TemplateInfo   `json:"template"`
	User     UserInfo       `json:"user"`
	Input    map[string]any `json:"input"`
	// Vars are parameters, steps and user (and each, in a loop).
	Vars map[string]any `json:"vars"`
	// Built are the workspace steps that ran before this one, in order: a
	// worker that did not run them all builds the workspace again from them.
	Built []ActionInput `json:"built,omitempty"`
}

// ActionResult is what an action's activity answers.
type ActionResult struct {
	Output map[string]any `json:"output"`
	Log    []string       `json:"log"`
	// Entities are refs the action registered in the catalog.
	Entities []string `json:"entities,omitempty"`
}

// RecordInput is the input of RecordActivity.
type RecordInput struct {
	Started  bool      `json:"started"`
	Task     TaskInput `json:"task"`
	State    TaskState `json:"state"`
	EventKey string    `json:"eventKey"`
}

// stepTimeout bounds one attempt of an action.
const stepTimeout = 10 * time.Minute

// TaskWorkflow runs a task: each enabled step in order, each action as an
// activity with retries, backlot:approval and debug:wait inside the workflow
// (durable timers and signals, so a wait survives any restart). A failed
// step fails the workflow with the state as the error's details; retry starts
// a new run with Resume.
func TaskWorkflow(ctx workflow.Context, in TaskInput, secrets Secrets) (TaskState, error) {
	tmpl, err := FromEntity(in.Template.Ref, in.Template.Body)
	if err != nil {
		return TaskState{}, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", nil)
	}
	// The actions were checked when the task was created; a custom action
	// this deployment no longer has fails its step (see runCustomStep).
	st := &TaskState{
		ID: in.ID, Template: in.Template.Ref, TemplateVersion: in.Template.Version, User: in.User.Ref,
		Status: StatusProcessing, Entities: []string{}, StepOutputs: map[string]map[string]any{}, Attempt: 1,
	}
	skipped := map[string]bool{}
	if in.Resume != nil {
		st.Log = append(st.Log, in.Resume.Log...)
		st.Entities = append(st.Entities, in.Resume.Entities...)
		st.Attempt = in.Resume.Attempt + 1
		for id, out := range in.Resume.Steps {
			st.StepOutputs[id] = out
		}
		for _, id := range in.Resume.Skipped {
			skipped[id] = true
		}
	}
	for _, s := range tmpl.Steps {
		st.Steps = append(st.Steps, StepState{ID: s.ID, Name: s.Name, Action: s.Action, Status: StatusOpen})
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (TaskState, error) { return *st, nil }); err != nil {
		return TaskState{}, err
	}
	logf := func(step, status, format string, args ...any) {
		st.Log = append(st.Log, LogLine{CreatedAt: workflow.Now(ctx).UTC(), StepID: step, Status: status, Message: fmt.Sprintf(format, args...)})
	}
	if st.Attempt > 1 {
		logf("", "", "Retrying the task (attempt %d); completed steps are not run again", st.Attempt)
	}
	record := func(ctx workflow.Context, started bool) {
		rc := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
		})
		key := fmt.Sprintf("%s/%d/%t", in.ID, st.Attempt, started)
		if err := workflow.ExecuteActivity(rc, RecordActivity, RecordInput{Started: started, Task: in, State: *st, EventKey: key}).Get(rc, nil); err != nil {
			logf("", "", "Could not record the task in the catalog: %v", err)
		}
	}
	record(ctx, true)

	// built are the workspace steps run so far (see ActionInput.Built).
	var built []ActionInput
	if in.Resume != nil {
		built = in.Resume.Built
		st.Built = built
	}
	// context.task.id is the task's id, as Backstage's templates read it.
	vars := map[string]any{"parameters": in.Parameters, "user": userVars(in.User),
		"context": map[string]any{"task": map[string]any{"id": in.ID}}}
	stepsVar := map[string]any{}
	vars["steps"] = stepsVar
	for id, out := range st.StepOutputs {
		stepsVar[id] = map[string]any{"output": out}
	}

	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: stepTimeout,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{InputErrorType},
		},
	})
	fail := func(i int, err error) (TaskState, error) {
		now := workflow.Now(ctx).UTC()
		if temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled) {
			st.Status = StatusCancelled
			if i >= 0 {
				st.Steps[i].Status = StatusCancelled
				st.Steps[i].EndedAt = &now
			}
			logf(stepIDAt(st, i), StatusCancelled, "Task cancelled")
			dc, _ := workflow.NewDisconnectedContext(ctx)
			record(dc, false)
			cleanup(dc, in.ID)
			return *st, temporal.NewCanceledError()
		}
		st.Status = StatusFailed
		st.Error = errorText(err)
		if i >= 0 {
			st.Steps[i].Status = StatusFailed
			st.Steps[i].EndedAt = &now
			st.FailedStep = st.Steps[i].ID
			logf(st.Steps[i].ID, StatusFailed, "Step %s failed: %s", st.Steps[i].ID, st.Error)
		} else {
			logf("", StatusFailed, "Task failed: %s", st.Error)
		}
		record(ctx, false)
		return *st, temporal.NewNonRetryableApplicationError(st.Error, "TaskFailed", nil, *st)
	}

	for i := range tmpl.Steps {
		s := &tmpl.Steps[i]
		if _, done := st.StepOutputs[s.ID]; done {
			st.Steps[i].Status = StatusCompleted
			continue
		}
		if skipped[s.ID] {
			st.Steps[i].Status = StatusSkipped
			continue
		}
		on, err := s.Enabled(vars)
		if err != nil {
			return fail(i, err)
		}
		if !on {
			st.Steps[i].Status = StatusSkipped
			logf(s.ID, StatusSkipped, "Skipping step %s: its if is false", s.ID)
			continue
		}
		items, err := s.Iterations(vars)
		if err != nil {
			return fail(i, err)
		}
		now := workflow.Now(ctx).UTC()
		st.Steps[i].Status = StatusProcessing
		st.Steps[i].StartedAt = &now
		logf(s.ID, StatusProcessing, "Beginning step %s", stepTitle(s))
		var out map[string]any
		runOnce := func(vars map[string]any) error {
			var err error
			switch s.Action {
			case ActionApproval:
				out, err = waitApproval(ctx, st, s, vars, logf)
			case ActionWait:
				out, err = wait(ctx, s, vars, logf)
			default:
				var res ActionResult
				ai := ActionInput{
					Task: in.ID, StepID: s.ID, Action: s.Action, Template: withoutBody(in.Template), User: in.User,
					Input: s.Input, Vars: vars, Built: built,
				}
				shapes := false
				if act, builtin := ActionByID(s.Action); builtin {
					err = workflow.ExecuteActivity(ao, s.Action, ai, secrets).Get(ctx, &res)
					shapes = err == nil && act.Shapes
				} else {
					res, shapes, err = runCustomStep(ctx, ao, ai, secrets)
				}
				if shapes {
					ai.Built = nil
					built = append(built, ai)
					st.Built = built
				}
				for _, l := range res.Log {
					logf(s.ID, StatusProcessing, "%s", l)
				}
				st.Entities = appendNew(st.Entities, res.Entities...)
				out = res.Output
			}
			return err
		}
		if items == nil {
			err = runOnce(vars)
		} else {
			for _, each := range items {
				loop := copyVars(vars)
				loop["each"] = each
				if err = runOnce(loop); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fail(i, err)
		}
		if out == nil {
			out = map[string]any{}
		}
		st.StepOutputs[s.ID] = out
		stepsVar[s.ID] = map[string]any{"output": out}
		end := workflow.Now(ctx).UTC()
		st.Steps[i].Status = StatusCompleted
		st.Steps[i].EndedAt = &end
		logf(s.ID, StatusCompleted, "Finished step %s", stepTitle(s))
	}
	if tmpl.Output != nil {
		o, err := RenderOutput(tmpl.Output, vars)
		if err != nil {
			return fail(-1, err)
		}
		st.Output = o
	}
	st.Status = StatusCompleted
	logf("", StatusCompleted, "Task completed")
	record(ctx, false)
	cleanup(ctx, in.ID)
	return *st, nil
}

// workflowOptions registers TaskWorkflow under WorkflowName.
func workflowOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: WorkflowName}
}

// cleanup removes the task's workspace; a failure only leaves a folder behind.
func cleanup(ctx workflow.Context, task string) {
	cc := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	_ = workflow.ExecuteActivity(cc, CleanupActivity, task).Get(cc, nil)
}

// waitApproval waits for SignalApproval, for as long as it takes or until
// the step's timeout (input.timeout, a Go duration such as 72h).
func waitApproval(ctx workflow.Context, st *TaskState, s *Step, vars map[string]any, logf func(step, status, format string, args ...any)) (map[string]any, error) {
	in, err := Render("steps."+s.ID+".input", s.Input, vars)
	if err != nil {
		return nil, err
	}
	m, _ := in.(map[string]any)
	msg, _ := m["message"].(string)
	if msg == "" {
		msg = "Waiting for approval"
	}
	var timeout time.Duration
	if t, ok := m["timeout"].(string); ok && t != "" {
		if timeout, err = time.ParseDuration(t); err != nil {
			return nil, inputError("steps.%s.input.timeout: %v", s.ID, err)
		}
	}
	approvers, self, err := approvalInputs(s.ID, m)
	if err != nil {
		return nil, err
	}
	st.Waiting = &Waiting{StepID: s.ID, Message: msg, Since: workflow.Now(ctx).UTC(), Approvers: approvers, SelfApproval: self}
	defer func() { st.Waiting = nil }()
	logf(s.ID, StatusProcessing, "%s (approve or reject the task to go on)", msg)
	var a Approval
	ch := workflow.GetSignalChannel(ctx, SignalApproval)
	sel := workflow.NewSelector(ctx)
	got, timedOut := false, false
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &a); got = true })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	if timeout > 0 {
		sel.AddFuture(workflow.NewTimer(ctx, timeout), func(workflow.Future) { timedOut = true })
	}
	sel.Select(ctx)
	if err := ctx.Err(); err != nil {
		return nil, temporal.NewCanceledError()
	}
	if timedOut && !got {
		return nil, fmt.Errorf("no decision within %s", timeout)
	}
	if !a.Approved {
		return nil, fmt.Errorf("rejected by %s: %s", a.By, a.Comment)
	}
	logf(s.ID, StatusProcessing, "Approved by %s %s", a.By, a.Comment)
	return map[string]any{"approved": true, "by": a.By, "comment": a.Comment}, nil
}

// approvalInputs reads a backlot:approval step's rendered approvers (a list
// of refs, or one comma-separated string) and selfApproval (a bool).
func approvalInputs(step string, in map[string]any) ([]string, bool, error) {
	var approvers []string
	switch v := in["approvers"].(type) {
	case nil:
	case string:
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				approvers = append(approvers, a)
			}
		}
	case []any:
		for i, a := range v {
			s, ok := a.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, false, inputError("steps.%s.input.approvers[%d]: want a user or group ref", step, i)
			}
			approvers = append(approvers, strings.TrimSpace(s))
		}
	default:
		return nil, false, inputError("steps.%s.input.approvers: want a list of user or group refs", step)
	}
	self := false
	switch v := in["selfApproval"].(type) {
	case nil:
	case bool:
		self = v
	default:
		return nil, false, inputError("steps.%s.input.selfApproval: want true or false", step)
	}
	return approvers, self, nil
}

// wait is debug:wait: a durable timer of input.minutes, seconds and
// milliseconds.
func wait(ctx workflow.Context, s *Step, vars map[string]any, logf func(step, status, format string, args ...any)) (map[string]any, error) {
	in, err := Render("steps."+s.ID+".input", s.Input, vars)
	if err != nil {
		return nil, err
	}
	m, _ := in.(map[string]any)
	d := time.Duration(number(m["minutes"])*float64(time.Minute) + number(m["seconds"])*float64(time.Second) + number(m["milliseconds"])*float64(time.Millisecond))
	if d <= 0 || d > 24*time.Hour {
		return nil, inputError("steps.%s.input: wait %s; give minutes, seconds or milliseconds up to a day", s.ID, d)
	}
	logf(s.ID, StatusProcessing, "Waiting %s", d)
	if err := workflow.Sleep(ctx, d); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}

func stepTitle(s *Step) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

func stepIDAt(st *TaskState, i int) string {
	if i < 0 || i >= len(st.Steps) {
		return ""
	}
	return st.Steps[i].ID
}

// errorText is an activity's or a child's error without Temporal's wrapping.
func errorText(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}

func userVars(u UserInfo) map[string]any {
	m := map[string]any{"ref": u.Ref}
	if u.Entity != nil {
		m["entity"] = u.Entity
	}
	return m
}

func copyVars(v map[string]any) map[string]any {
	out := make(map[string]any, len(v)+1)
	for k, x := range v {
		out[k] = x
	}
	return out
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		dup := false
		for _, x := range list {
			if x == a {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, a)
		}
	}
	return list
}

// withoutBody drops the template body from an activity's input: actions
// need its ref and location, not the whole entity, in every history event.
func withoutBody(t TemplateInfo) TemplateInfo {
	t.Body = nil
	return t
}
