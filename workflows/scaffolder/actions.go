package scaffolder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/sandbox"
)

// The actions that run inside the workflow rather than as activities.
const (
	// ActionApproval waits until someone approves or rejects the task.
	ActionApproval = "backlot:approval"
	// ActionWait waits with a durable timer.
	ActionWait = "debug:wait"
)

// InputErrorType is the Temporal error type of an action input that cannot
// work: such a step fails at once instead of being retried.
const InputErrorType = "InputError"

// RepoExistsErrorType is the Temporal error type of a publish to a
// repository that already holds other commits: retrying cannot help, so the
// step fails at once, not retryable.
const RepoExistsErrorType = "RepoExists"

// ConflictErrorType is the Temporal error type of a catalog:register whose
// entity another location already provides (a duplicate that appeared after
// the task started): retrying cannot help, so the step fails at once, not
// retryable.
const ConflictErrorType = "EntityConflict"

// inputError is a non-retryable action error.
func inputError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), InputErrorType, nil)
}

// Catalog is what the actions need of the catalog.
type Catalog interface {
	// Register registers (or, when registered before, refreshes) the url
	// location target as actor, with the task's id as the events'
	// correlation id, and returns the refs of the entities it yields once
	// they are readable. An error that matches fault.Conflict (an entity of
	// the file is provided by another location), fault.Invalid or
	// fault.Forbidden fails the step at once, not retryable.
	Register(ctx context.Context, actor, task, target string) ([]string, error)
	// Append writes events to the catalog's log.
	Append(ctx context.Context, evs []event.Envelope) error
}

// Activities runs the built-in actions. Each action is an activity
// registered under its name; every one may run again after a crash and
// answers the same.
type Activities struct {
	// WorkDir holds each task's workspace, WorkDir/<task id>.
	WorkDir string
	// Local is the local git host of publish:git.
	Local *githost.Local
	// GitHub and GitLab, when set, serve publish:github and publish:gitlab.
	GitHub *githost.GitHub
	GitLab *githost.GitLab
	// LocalFallback publishes publish:github and publish:gitlab to the local
	// host when that host is not configured (backlot dev), so Backstage
	// templates run unchanged; the task log says so.
	LocalFallback bool
	// Catalog registers entities and records the task's events.
	Catalog Catalog
	// Logger receives what the actions log besides the task log.
	Logger *slog.Logger
	// Custom are the deployment's custom actions (nil: none).
	Custom *CustomActions
	// Sandbox runs executable custom actions; nil refuses them.
	Sandbox *sandbox.Runner
	// BacklotURL is the API's address executables receive as BACKLOT_URL.
	BacklotURL string
}

// ActionFunc is an action: it renders nothing itself (its input arrives
// rendered) and answers its output and log lines.
type ActionFunc func(ctx context.Context, a *Activities, r *Run) error

// Run is one run of an action: its rendered input, its workspace, its log
// and its output.
type Run struct {
	In        ActionInput
	Input     map[string]any
	Secrets   Secrets
	Workspace Workspace
	Result    ActionResult
}

// Logf adds a line to the task log.
func (r *Run) Logf(format string, args ...any) {
	r.Result.Log = append(r.Result.Log, fmt.Sprintf(format, args...))
}

// Set sets an output.
func (r *Run) Set(name string, v any) {
	if r.Result.Output == nil {
		r.Result.Output = map[string]any{}
	}
	r.Result.Output[name] = v
}

// String returns the input field name as a string ("" when missing) and
// fails for another type.
func (r *Run) String(name string) (string, error) {
	v, ok := r.Input[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", inputError("steps.%s.input.%s: want a string, got %T", r.In.StepID, name, v)
	}
	return s, nil
}

// Required is String for a field that must be set.
func (r *Run) Required(name string) (string, error) {
	s, err := r.String(name)
	if err == nil && strings.TrimSpace(s) == "" {
		err = inputError("steps.%s.input.%s: required", r.In.StepID, name)
	}
	return s, err
}

// Strings returns a list field of strings.
func (r *Run) Strings(name string) ([]string, error) {
	v, ok := r.Input[name]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, inputError("steps.%s.input.%s: want a list, got %T", r.In.StepID, name, v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, inputError("steps.%s.input.%s[%d]: want a string, got %T", r.In.StepID, name, i, e)
		}
		out[i] = s
	}
	return out, nil
}

// Action describes a built-in action for GET /v2/actions.
type Action struct {
	ID          string         `json:"id"`
	Description string         `json:"description"`
	Schema      map[string]any `json:"schema"`
	// InWorkflow marks actions run by the workflow itself (waits).
	InWorkflow bool       `json:"-"`
	Run        ActionFunc `json:"-"`
	// DryRun runs the action in a dry run; nil means the action runs as it
	// does for real (it only touches the workspace).
	DryRun ActionFunc `json:"-"`
	// Shapes marks actions that build the workspace (and touch nothing
	// else): a worker that finds the workspace of a task behind runs them
	// again before the next step.
	Shapes bool `json:"-"`
}

// Actions returns the built-in actions, by id.
func Actions() []Action {
	obj := func(required []string, props map[string]any) map[string]any {
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	str := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
	strs := func(d string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": d}
	}
	publishIn := obj([]string{"repoUrl"}, map[string]any{
		"repoUrl":          str("host?owner=O&repo=R"),
		"description":      str("Repository description"),
		"defaultBranch":    str("Branch to create; default main"),
		"sourcePath":       str("Workspace folder to publish; default the whole workspace"),
		"gitCommitMessage": str("First commit's message; default Initial commit"),
		"gitAuthorName":    str("Commit author's name"),
		"gitAuthorEmail":   str("Commit author's e-mail"),
	})
	publishOut := obj(nil, map[string]any{"remoteUrl": str("Clone URL"), "repoContentsUrl": str("URL of the default branch's files"), "commitHash": str("First commit")})
	return append([]Action{
		{ID: "fetch:template", Description: "Renders a skeleton folder into the workspace: ${{ values.x }} in paths and contents",
			Schema: map[string]any{"input": obj([]string{"url"}, map[string]any{
				"url": str("Folder, relative to the template's location"), "targetPath": str("Workspace folder; default ./"),
				"values": map[string]any{"type": "object"}, "copyWithoutTemplating": strs("Globs copied as they are"),
				"copyWithoutRender":     strs("The older name of copyWithoutTemplating"),
				"cookiecutterCompat":    map[string]any{"type": "boolean", "description": "Read {{ cookiecutter.x }} instead of ${{ values.x }}"},
				"templateFileExtension": map[string]any{"type": []any{"string", "boolean"}, "description": "Render only the contents of files with this extension (.njk for true), dropping it from their names"},
				"replace":               map[string]any{"type": "boolean", "description": "Overwrite files already in the target"},
				"trimBlocks":            map[string]any{"type": "boolean", "description": "Remove the first newline after a block tag"},
				"lstripBlocks":          map[string]any{"type": "boolean", "description": "Remove the white space before a block tag on its line"},
			})}, Run: fetchTemplate, Shapes: true},
		{ID: "fetch:plain", Description: "Copies a folder into the workspace as it is",
			Schema: map[string]any{"input": obj([]string{"url"}, map[string]any{"url": str("Folder, relative to the template's location"), "targetPath": str("Workspace folder")})},
			Run:    fetchPlain, Shapes: true},
		{ID: "fs:rename", Description: "Renames files of the workspace",
			Schema: map[string]any{"input": obj([]string{"files"}, map[string]any{"files": map[string]any{"type": "array", "items": obj([]string{"from", "to"},
				map[string]any{"from": str("From"), "to": str("To"), "overwrite": map[string]any{"type": "boolean"}})}})},
			Run: fsRename, Shapes: true},
		{ID: "fs:delete", Description: "Deletes files of the workspace",
			Schema: map[string]any{"input": obj([]string{"files"}, map[string]any{"files": strs("Paths")})}, Run: fsDelete, Shapes: true},
		{ID: "publish:git", Description: "Creates a repository on Backlot's local git host and pushes the workspace as its first commit",
			Schema: map[string]any{"input": publishIn, "output": publishOut}, Run: publishGit, DryRun: publishDry},
		{ID: "publish:github", Description: "Creates a GitHub repository through its REST API and pushes the workspace over HTTPS",
			Schema: map[string]any{"input": publishIn, "output": publishOut}, Run: publishRemote("github"), DryRun: publishDry},
		{ID: "publish:gitlab", Description: "Creates a GitLab project through its REST API and pushes the workspace over HTTPS",
			Schema: map[string]any{"input": publishIn, "output": publishOut}, Run: publishRemote("gitlab"), DryRun: publishDry},
		{ID: "catalog:register", Description: "Registers a catalog-info file in the catalog and waits until its entities are readable",
			Schema: map[string]any{"input": obj(nil, map[string]any{
				"repoContentsUrl": str("From a publish step"), "catalogInfoPath": str("Default /catalog-info.yaml"), "catalogInfoUrl": str("Or the file's URL"),
				"optional": map[string]any{"type": "boolean"},
			}), "output": obj(nil, map[string]any{"entityRef": str("First entity registered"), "catalogInfoUrl": str("Location registered")})},
			Run: catalogRegister, DryRun: catalogRegisterDry},
		{ID: "catalog:write", Description: "Writes an entity as a catalog-info file in the workspace",
			Schema: map[string]any{"input": obj([]string{"entity"}, map[string]any{"filePath": str("Default catalog-info.yaml"), "entity": map[string]any{"type": "object"}})},
			Run:    catalogWrite, Shapes: true},
		{ID: "debug:log", Description: "Writes a message, and optionally the workspace's files, to the task log",
			Schema: map[string]any{"input": obj(nil, map[string]any{"message": str("Message"), "listWorkspace": map[string]any{"type": "boolean"}})},
			Run:    debugLog},
		{ID: "notification:send", Description: "Sends a notification to users or an entity's owners; Backlot has no notification inbox yet, so it is written to the task log, where the task's user reads it",
			Schema: map[string]any{"input": obj([]string{"title"}, map[string]any{"recipients": str("broadcast or entity"), "entityRefs": strs("Recipients"),
				"title": str("Title"), "info": str("Text"), "link": str("Link"), "severity": str("low, normal, high or critical")})},
			Run: notificationSend},
		{ID: ActionWait, Description: "Waits (a durable timer: a restart does not start it over)", InWorkflow: true,
			Schema: map[string]any{"input": obj(nil, map[string]any{"minutes": map[string]any{"type": "number"}, "seconds": map[string]any{"type": "number"}, "milliseconds": map[string]any{"type": "number"}})}},
		{ID: ActionApproval, Description: "Waits, for days if need be, until someone approves or rejects the task", InWorkflow: true,
			Schema: map[string]any{"input": obj(nil, map[string]any{"message": str("What to decide"), "timeout": str("Go duration; default none"),
				"approvers":    strs("The users and groups who decide (refs); none named: the platform group"),
				"selfApproval": map[string]any{"type": "boolean", "description": "Whether the task's creator may decide too; default false"}}),
				"output": obj(nil, map[string]any{"approved": map[string]any{"type": "boolean"}, "by": str("Who"), "comment": str("Why")})}},
	}, append(hostActions(), extraActions()...)...)
}

// builtins indexes Actions by id, built once: the workflow looks an action
// up at every step.
var builtins = sync.OnceValue(func() map[string]Action {
	m := map[string]Action{}
	for _, a := range Actions() {
		m[a.ID] = a
	}
	return m
})

// ActionByID returns the built-in action id.
func ActionByID(id string) (Action, bool) {
	a, ok := builtins()[id]
	return a, ok
}

// Register registers the task workflow and every action's activity on r.
func Register(r worker.Registry, a *Activities) {
	warmTemplates()
	r.RegisterWorkflowWithOptions(TaskWorkflow, workflowOptions())
	for _, act := range Actions() {
		if act.InWorkflow {
			continue
		}
		r.RegisterActivityWithOptions(a.activity(act), activity.RegisterOptions{Name: act.ID})
	}
	r.RegisterActivityWithOptions(a.customInput, activity.RegisterOptions{Name: CustomInputActivity})
	// Executable custom actions run on this queue, under their ids; the
	// Temporal activities of the others run on their own queues.
	for _, id := range a.customIDs() {
		if c, _ := a.Custom.Lookup(id); c.Kind() == CustomKindExecutable {
			act, _ := a.lookup(id)
			r.RegisterActivityWithOptions(a.activity(act), activity.RegisterOptions{Name: id})
		}
	}
	r.RegisterActivityWithOptions(a.Record, activity.RegisterOptions{Name: RecordActivity})
	r.RegisterActivityWithOptions(a.Cleanup, activity.RegisterOptions{Name: CleanupActivity})
}

// activity wraps an action as an activity: render the input with the
// secrets, run, and turn input problems into non-retryable errors. What it
// answers (log, outputs, error) has every secret value masked: results and
// failures are recorded in clear in Temporal's history, and become the
// task's log, outputs and events.
func (a *Activities) activity(act Action) func(context.Context, ActionInput, Secrets) (ActionResult, error) {
	return func(ctx context.Context, in ActionInput, secrets Secrets) (ActionResult, error) {
		m := NewMasker(secrets)
		res, err := a.runActivity(ctx, act, in, secrets)
		return m.Result(res), m.Error(err)
	}
}

// runActivity runs one action for activity, in clear.
func (a *Activities) runActivity(ctx context.Context, act Action, in ActionInput, secrets Secrets) (ActionResult, error) {
	replayed, err := a.catchUp(ctx, in, secrets)
	if err != nil {
		return ActionResult{}, err
	}
	r, err := a.prepare(in, secrets)
	if err != nil {
		return ActionResult{}, err
	}
	if replayed > 0 {
		r.Logf("This worker had not built the workspace: %d earlier workspace steps ran again here", replayed)
	}
	if err := act.Run(ctx, a, r); err != nil {
		return r.Result, err
	}
	if act.Shapes {
		if err := a.setBuilt(in.Task, len(in.Built)+1); err != nil {
			return r.Result, err
		}
	}
	return r.Result, nil
}

// statePath is the file beside a task's workspace that counts the
// workspace steps this worker applied to it.
func (a *Activities) statePath(task string) string {
	return filepath.Join(a.WorkDir, safeName(task)+".built")
}

func (a *Activities) setBuilt(task string, n int) error {
	if err := os.MkdirAll(a.WorkDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(a.statePath(task), []byte(strconv.Itoa(n)), 0o644)
}

// catchUp makes this worker's workspace of the task hold what the steps
// in.Built built, running them again (from an empty workspace) when this
// worker did not run them all: a task's steps may land on any worker. It
// answers how many steps it ran.
func (a *Activities) catchUp(ctx context.Context, in ActionInput, secrets Secrets) (int, error) {
	raw, _ := os.ReadFile(a.statePath(in.Task))
	if n, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && n == len(in.Built) {
		return 0, nil
	}
	if len(in.Built) == 0 {
		return 0, a.setBuilt(in.Task, 0)
	}
	if err := os.RemoveAll(filepath.Join(a.WorkDir, safeName(in.Task))); err != nil {
		return 0, err
	}
	for _, b := range in.Built {
		act, ok := a.lookup(b.Action)
		if !ok || !act.Shapes {
			return 0, inputError("step %s: %s does not build the workspace", b.StepID, b.Action)
		}
		r, err := a.prepare(b, secrets)
		if err != nil {
			return 0, err
		}
		if err := act.Run(ctx, a, r); err != nil {
			return 0, fmt.Errorf("rebuilding the workspace: step %s: %w", b.StepID, err)
		}
	}
	return len(in.Built), a.setBuilt(in.Task, len(in.Built))
}

// prepare renders an action's input and opens the task's workspace.
func (a *Activities) prepare(in ActionInput, secrets Secrets) (*Run, error) {
	vars := copyVars(in.Vars)
	sv := map[string]any{}
	for k, v := range secrets {
		sv[k] = v
	}
	vars["secrets"] = sv
	rendered, err := Render("steps."+in.StepID+".input", in.Input, vars)
	if err != nil {
		return nil, inputError("%v", err)
	}
	m, _ := rendered.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	dir := filepath.Join(a.WorkDir, safeName(in.Task))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Run{In: in, Input: m, Secrets: secrets, Workspace: Workspace{Dir: abs}}, nil
}

// Cleanup removes a task's workspace.
func (a *Activities) Cleanup(_ context.Context, task string) error {
	os.Remove(a.statePath(task))
	os.RemoveAll(filepath.Join(a.WorkDir, safeName(task)+".done"))
	return os.RemoveAll(filepath.Join(a.WorkDir, safeName(task)))
}

// Record appends a task's start or end to the catalog's log.
func (a *Activities) Record(ctx context.Context, in RecordInput) error {
	meta := event.Meta{Actor: in.Task.User.Ref, CorrelationID: in.Task.ID}
	var ev event.Envelope
	var err error
	if in.Started {
		ev, err = event.New(event.TypeTaskStarted, event.TaskSubject(in.Task.ID), event.TaskStarted{
			Task: in.Task.ID, Template: in.Task.Template.Ref, TemplateVersion: in.Task.Template.Version, User: in.Task.User.Ref,
			Parameters: in.Task.Parameters,
		}, meta)
	} else {
		ev, err = event.New(event.TypeTaskFinished, event.TaskSubject(in.Task.ID), event.TaskFinished{
			Task: in.Task.ID, Template: in.Task.Template.Ref, TemplateVersion: in.Task.Template.Version, User: in.Task.User.Ref,
			Status: in.State.Status, Error: in.State.Error, FailedStep: in.State.FailedStep, Entities: in.State.Entities, Output: in.State.Output,
		}, meta)
	}
	if err != nil {
		return err
	}
	// The same id on a retried append: consumers can drop the duplicate.
	ev.ID = event.NameID(in.EventKey)
	return a.Catalog.Append(ctx, []event.Envelope{ev})
}

// safeName keeps a task id usable as a folder name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orDot(s string) string {
	if s == "" {
		return "./"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
