package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/workflows/githost"
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
}

// ActionFunc is an action: it renders nothing itself (its input arrives
// rendered) and answers its output and log lines.
type ActionFunc func(ctx context.Context, a *Activities, r *Run) error

// Run is one run of an action: its rendered input, its workspace, its log
// and its output.
type Run struct {
	In        ActionInput
	Input     map[string]any
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
	return []Action{
		{ID: "fetch:template", Description: "Renders a skeleton folder into the workspace: ${{ values.x }} in paths and contents",
			Schema: map[string]any{"input": obj([]string{"url"}, map[string]any{
				"url": str("Folder, relative to the template's location"), "targetPath": str("Workspace folder; default ./"),
				"values": map[string]any{"type": "object"}, "copyWithoutTemplating": strs("Globs copied as they are"),
				"copyWithoutRender": strs("The older name of copyWithoutTemplating"),
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
			Schema: map[string]any{"input": obj(nil, map[string]any{"message": str("What to decide"), "timeout": str("Go duration; default none")}),
				"output": obj(nil, map[string]any{"approved": map[string]any{"type": "boolean"}, "by": str("Who"), "comment": str("Why")})}},
	}
}

// ActionByID returns the built-in action id.
func ActionByID(id string) (Action, bool) {
	for _, a := range Actions() {
		if a.ID == id {
			return a, true
		}
	}
	return Action{}, false
}

// Register registers the task workflow and every action's activity on r.
func Register(r worker.Registry, a *Activities) {
	r.RegisterWorkflowWithOptions(TaskWorkflow, workflowOptions())
	for _, act := range Actions() {
		if act.InWorkflow {
			continue
		}
		r.RegisterActivityWithOptions(a.activity(act), activity.RegisterOptions{Name: act.ID})
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
		act, ok := ActionByID(b.Action)
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
	return &Run{In: in, Input: m, Workspace: Workspace{Dir: abs}}, nil
}

// Cleanup removes a task's workspace.
func (a *Activities) Cleanup(_ context.Context, task string) error {
	os.Remove(a.statePath(task))
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

// templateDir is the folder a template's relative urls start from.
func templateDir(t TemplateInfo) (string, error) {
	loc := t.Location
	for _, p := range []string{"file:", "url:"} {
		loc = strings.TrimPrefix(loc, p)
	}
	if strings.HasPrefix(loc, "file://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", err
		}
		loc = u.Path
	}
	if loc == "" || strings.Contains(loc, "://") {
		return "", inputError("template %s: read from %q; fetch actions read skeletons next to templates registered from files", t.Ref, t.Location)
	}
	return filepath.Dir(loc), nil
}

// source resolves a fetch url to a folder inside the template's own
// folder. An absolute url, a file: url, one that leaves the folder with
// ../, and one whose symbolic links resolve outside the folder are refused:
// an action reads nothing of the server's disk but the template's files (in
// a dry run, the uploaded directoryContents). Errors name the step, the
// input field and the path.
func source(r *Run) (string, error) {
	u, err := r.Required("url")
	if err != nil {
		return "", err
	}
	field := "steps." + r.In.StepID + ".input.url"
	if strings.Contains(u, "://") || strings.HasPrefix(u, "file:") {
		return "", inputError("%s: %q; give a folder relative to the template", field, u)
	}
	if filepath.IsAbs(u) || strings.HasPrefix(filepath.ToSlash(u), "/") {
		return "", inputError("%s: %q is absolute; give a folder inside the template's folder", field, u)
	}
	if !filepath.IsLocal(filepath.FromSlash(u)) {
		return "", inputError("%s: %q leaves the template's folder", field, u)
	}
	dir, err := templateDir(r.In.Template)
	if err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", inputError("%s: %s: the template's folder cannot be read: %v", field, dir, err)
	}
	src := filepath.Join(dir, filepath.FromSlash(u))
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", inputError("%s: %s is not a folder next to the template", field, src)
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", inputError("%s: %s is a symbolic link to %s, outside the template's folder", field, src, real)
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return "", inputError("%s: %s is not a folder next to the template", field, src)
	}
	return real, nil
}

func fetchTemplate(_ context.Context, _ *Activities, r *Run) error {
	globs, err := r.Strings("copyWithoutTemplating")
	if err != nil {
		return err
	}
	// copyWithoutRender is the older name Backstage still reads.
	old, err := r.Strings("copyWithoutRender")
	if err != nil {
		return err
	}
	values, _ := r.Input["values"].(map[string]any)
	return fetch(r, "fetch:template", "Rendered", func(w Workspace, src, target string) ([]string, error) {
		return FetchTemplate(w, src, target, values, append(globs, old...))
	})
}

func fetchPlain(_ context.Context, _ *Activities, r *Run) error {
	return fetch(r, "fetch:plain", "Copied", FetchPlain)
}

// fetch runs a fetch action: the folder of input.url into input.targetPath.
func fetch(r *Run, action, verb string, copyTree func(w Workspace, src, target string) ([]string, error)) error {
	src, err := source(r)
	if err != nil {
		return err
	}
	target, err := r.String("targetPath")
	if err != nil {
		return err
	}
	files, err := copyTree(r.Workspace, src, target)
	if err != nil {
		return inputError("steps.%s.input.url: %s %s: %v", r.In.StepID, action, src, err)
	}
	r.Logf("%s %d files into %s", verb, len(files), orDot(target))
	return nil
}

func fsRename(_ context.Context, _ *Activities, r *Run) error {
	list, _ := r.Input["files"].([]any)
	if len(list) == 0 {
		return inputError("steps.%s.input.files: required, a list of {from, to}", r.In.StepID)
	}
	for i, e := range list {
		m, _ := e.(map[string]any)
		from, _ := m["from"].(string)
		to, _ := m["to"].(string)
		over, _ := m["overwrite"].(bool)
		if from == "" || to == "" {
			return inputError("steps.%s.input.files[%d]: from and to are required", r.In.StepID, i)
		}
		if err := Rename(r.Workspace, from, to, over); err != nil {
			return inputError("steps.%s.input.files[%d]: %v", r.In.StepID, i, err)
		}
		r.Logf("Renamed %s to %s", from, to)
	}
	return nil
}

func fsDelete(_ context.Context, _ *Activities, r *Run) error {
	files, err := r.Strings("files")
	if err != nil {
		return err
	}
	if err := Delete(r.Workspace, files); err != nil {
		return inputError("steps.%s.input.files: %v", r.In.StepID, err)
	}
	r.Logf("Deleted %s", strings.Join(files, ", "))
	return nil
}

// publishInput reads the inputs publish actions share.
func publishInput(r *Run) (PublishInput, error) {
	var in PublishInput
	var err error
	if in.RepoURL, err = r.Required("repoUrl"); err != nil {
		return in, err
	}
	for _, f := range []struct {
		dst  *string
		name string
	}{{&in.DefaultBranch, "defaultBranch"}, {&in.Description, "description"}, {&in.SourcePath, "sourcePath"}, {&in.Message, "gitCommitMessage"}} {
		if *f.dst, err = r.String(f.name); err != nil {
			return in, err
		}
	}
	name, _ := r.String("gitAuthorName")
	email, _ := r.String("gitAuthorEmail")
	if name != "" || email != "" {
		if email == "" {
			email = "backlot@localhost"
		}
		in.Author = strings.TrimSpace(name) + " <" + email + ">"
	}
	if in.DefaultBranch == "" {
		in.DefaultBranch = "main"
	}
	return in, nil
}

func publishGit(ctx context.Context, a *Activities, r *Run) error {
	in, err := publishInput(r)
	if err != nil {
		return err
	}
	if a.Local == nil {
		return inputError("publish:git: no local git host is configured")
	}
	out, err := PublishLocal(ctx, a.Local, r.Workspace, in)
	if err := published(r, out, err); err != nil {
		return err
	}
	r.Logf("Published %s at commit %s", out.RemoteURL, short(out.CommitHash))
	return nil
}

// published sets a publish action's outputs, or makes a problem with its
// input a non-retryable error naming the field.
func published(r *Run, out PublishOutput, err error) error {
	var pe *ParameterError
	if errors.As(err, &pe) {
		return inputError("steps.%s.input.%v", r.In.StepID, err)
	}
	if errors.Is(err, githost.ErrRepoNotEmpty) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("steps.%s: %v", r.In.StepID, err), RepoExistsErrorType, nil)
	}
	if err != nil {
		return err
	}
	setPublished(r, out)
	return nil
}

func publishRemote(kind string) ActionFunc {
	return func(ctx context.Context, a *Activities, r *Run) error {
		in, err := publishInput(r)
		if err != nil {
			return err
		}
		var host githost.Host
		switch {
		case kind == "github" && a.GitHub != nil:
			host = a.GitHub
		case kind == "gitlab" && a.GitLab != nil:
			host = a.GitLab
		case a.LocalFallback && a.Local != nil:
			// Backstage's templates run unchanged in dev: their repository
			// goes to the local host, as owner/repo of its repoUrl.
			out, err := Publish(ctx, a.Local, r.Workspace, in)
			if err := published(r, out, err); err != nil {
				return err
			}
			loc, _ := policies.ParseRepoURL(in.RepoURL)
			r.Logf("No %s host is configured (BACKLOT_%s_TOKEN): published %v/%v to the local git host instead, %s at commit %s",
				kind, strings.ToUpper(kind), loc["owner"], loc["repo"], out.RemoteURL, short(out.CommitHash))
			return nil
		default:
			return inputError("publish:%s: no %s host is configured (set BACKLOT_%s_TOKEN)", kind, kind, strings.ToUpper(kind))
		}
		out, err := Publish(ctx, host, r.Workspace, in)
		if err := published(r, out, err); err != nil {
			return err
		}
		r.Logf("Published %s at commit %s", out.RemoteURL, short(out.CommitHash))
		return nil
	}
}

func publishDry(_ context.Context, _ *Activities, r *Run) error {
	in, err := publishInput(r)
	if err != nil {
		return err
	}
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return inputError("steps.%s.input.repoUrl: %v", r.In.StepID, err)
	}
	remote := fmt.Sprintf("dry-run://%v/%v/%v.git", loc["host"], loc["owner"], loc["repo"])
	setPublished(r, PublishOutput{RemoteURL: remote, RepoContentsURL: remote + "?ref=" + in.DefaultBranch, CommitHash: strings.Repeat("0", 40)})
	r.Logf("Dry run: would create %v/%v on %v and push the workspace to %s", loc["owner"], loc["repo"], loc["host"], in.DefaultBranch)
	return nil
}

func setPublished(r *Run, out PublishOutput) {
	r.Set("remoteUrl", out.RemoteURL)
	r.Set("repoContentsUrl", out.RepoContentsURL)
	r.Set("commitHash", out.CommitHash)
}

// catalogInfoURL is the url location catalog:register registers.
func catalogInfoURL(r *Run) (string, error) {
	if u, err := r.String("catalogInfoUrl"); err != nil || u != "" {
		return u, err
	}
	contents, err := r.String("repoContentsUrl")
	if err != nil {
		return "", err
	}
	if contents == "" {
		return "", inputError("steps.%s.input: give repoContentsUrl (with catalogInfoPath) or catalogInfoUrl", r.In.StepID)
	}
	p, err := r.String("catalogInfoPath")
	if err != nil {
		return "", err
	}
	if p == "" {
		p = "/catalog-info.yaml"
	}
	p = strings.TrimPrefix(p, "/")
	if strings.Contains(contents, "?") {
		return contents + "&path=" + url.QueryEscape(p), nil
	}
	return strings.TrimSuffix(contents, "/") + "/" + p, nil
}

func catalogRegister(ctx context.Context, a *Activities, r *Run) error {
	target, err := catalogInfoURL(r)
	if err != nil {
		return err
	}
	optional, _ := r.Input["optional"].(bool)
	refs, err := a.Catalog.Register(ctx, r.In.User.Ref, r.In.Task, target)
	if err != nil {
		err = registerError(target, err)
		if optional {
			r.Logf("Could not register %s (optional): %v", target, err)
			return nil
		}
		return err
	}
	r.Set("catalogInfoUrl", target)
	if len(refs) > 0 {
		r.Set("entityRef", refs[0])
	}
	r.Result.Entities = refs
	r.Logf("Registered %s: %s", target, strings.Join(refs, ", "))
	return nil
}

// registerError makes an error of Catalog.Register that cannot succeed on a
// retry non-retryable: a conflict (fault.Conflict: an entity of the file is
// provided by another location) fails with ConflictErrorType, an invalid or
// forbidden target (fault.Invalid, fault.Forbidden) with InputErrorType. An
// error that is already a Temporal application error keeps its own
// classification; any other error (a store that did not answer) stays
// retryable.
func registerError(target string, err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, fault.Conflict):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("register %s: %v", target, err), ConflictErrorType, nil)
	case errors.Is(err, fault.Invalid), errors.Is(err, fault.Forbidden):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("register %s: %v", target, err), InputErrorType, nil)
	}
	return err
}

func catalogRegisterDry(_ context.Context, _ *Activities, r *Run) error {
	target, err := catalogInfoURL(r)
	if err != nil {
		return err
	}
	r.Set("catalogInfoUrl", target)
	r.Logf("Dry run: would register %s", target)
	return nil
}

func catalogWrite(_ context.Context, _ *Activities, r *Run) error {
	p, err := r.String("filePath")
	if err != nil {
		return err
	}
	if p == "" {
		p = "catalog-info.yaml"
	}
	ent, ok := r.Input["entity"].(map[string]any)
	if !ok {
		return inputError("steps.%s.input.entity: required, an object", r.In.StepID)
	}
	dst, err := r.Workspace.Path(p)
	if err != nil {
		return inputError("steps.%s.input.filePath: %v", r.In.StepID, err)
	}
	raw, err := yaml.Marshal(ent)
	if err != nil {
		return inputError("steps.%s.input.entity: %v", r.In.StepID, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, raw, 0o644); err != nil {
		return err
	}
	r.Logf("Wrote %s", p)
	return nil
}

func debugLog(_ context.Context, _ *Activities, r *Run) error {
	if msg, _ := r.Input["message"].(string); msg != "" {
		r.Logf("%s", msg)
	} else if v, ok := r.Input["message"]; ok && v != nil {
		r.Logf("%v", v)
	}
	if list, _ := r.Input["listWorkspace"].(bool); list {
		var files []string
		_ = filepath.WalkDir(r.Workspace.Dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(r.Workspace.Dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		sort.Strings(files)
		r.Logf("Workspace: %s", strings.Join(files, ", "))
	}
	return nil
}

func notificationSend(_ context.Context, _ *Activities, r *Run) error {
	title, err := r.Required("title")
	if err != nil {
		return err
	}
	to, err := r.Strings("entityRefs")
	if err != nil {
		return err
	}
	if len(to) == 0 {
		rec, _ := r.String("recipients")
		to = []string{orDefault(rec, "broadcast")}
	}
	info, _ := r.String("info")
	sev, _ := r.String("severity")
	r.Logf("Notification (%s) to %s: %s. %s", orDefault(sev, "normal"), strings.Join(to, ", "), title, info)
	r.Set("recipients", to)
	return nil
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
