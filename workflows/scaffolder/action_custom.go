package scaffolder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/workflows/sandbox"
)

// CustomScheduleToStart bounds how long a custom Temporal activity waits for
// a worker of its task queue: past it the step fails, naming the queue.
const CustomScheduleToStart = 10 * time.Minute

// MaxCustomOutput bounds what an executable action may write on stdout.
const MaxCustomOutput = 1 << 20

// The files, in an executable's scratch HOME, that carry its input and output.
const (
	execInputFile  = ".backlot-input.json"
	execOutputFile = ".backlot-output.json"
)

// lookup returns the action id: a built-in one, or a custom one as an
// Action whose Run runs it in this process (an executable), or, for a
// Temporal activity, checks its input and says what would run (dry runs).
func (a *Activities) lookup(id string) (Action, bool) {
	if act, ok := ActionByID(id); ok {
		return act, true
	}
	var custom *CustomActions
	if a != nil {
		custom = a.Custom
	}
	c, ok := custom.Lookup(id)
	if !ok {
		return Action{}, false
	}
	act := Action{ID: c.ID, Description: c.Description}
	switch c.Kind() {
	case CustomKindExecutable:
		act.Run = execAction(c)
		act.Shapes = !c.Network
		// A dry run runs in the API's process: user code runs only on
		// workers, so the preview only checks the input.
		act.DryRun = customDry(c)
	default:
		act.Run = customDry(c)
	}
	return act, true
}

// Check reports the first step of t whose action this deployment does not
// have (built-in or custom), naming the step. a may be nil: only the
// built-in actions are known then.
func (a *Activities) Check(t *Template) error {
	for _, s := range t.Steps {
		if _, ok := a.lookup(s.Action); !ok {
			return &TemplateError{Template: t.Ref, Field: "steps." + s.ID + ".action", Problem: fmt.Sprintf("no action %q (GET /api/scaffolder/v2/actions lists them)", s.Action)}
		}
	}
	return nil
}

// Described returns every action for GET /v2/actions: the built-in ones,
// then the custom ones by id. a may be nil.
func (a *Activities) Described() []Action {
	out := Actions()
	if a != nil {
		out = append(out, a.Custom.Described()...)
	}
	return out
}

// customDry checks a custom action's input and logs what would run.
func customDry(c CustomAction) ActionFunc {
	return func(_ context.Context, a *Activities, r *Run) error {
		if err := a.Custom.CheckInput(c.ID, r.In.StepID, r.Input); err != nil {
			return err
		}
		// Later steps read its outputs: each property of the output schema
		// gets a placeholder of its type.
		for k, v := range placeholders(c.Output) {
			r.Set(k, v)
		}
		if c.Kind() == CustomKindActivity {
			r.Logf("Dry run: would run activity %s on task queue %s", c.ActivityType, c.TaskQueue)
		} else {
			r.Logf("Dry run: would run %s (executables run only on workers, sandboxed)", filepath.Base(c.Command[0]))
		}
		return nil
	}
}

// customInput is CustomInputActivity: it renders the step's input, checks
// it against the action's schema and answers the route. The input of a
// Temporal activity is recorded in Temporal's history in clear (the other
// worker cannot open Backlot's sealed payloads), so an input that carries a
// secret value is refused.
func (a *Activities) customInput(_ context.Context, in ActionInput, secrets Secrets) (CustomRoute, error) {
	m := NewMasker(secrets)
	c, ok := a.Custom.Lookup(in.Action)
	if !ok {
		return CustomRoute{}, inputError("steps.%s.action: no action %q on this worker (GET /api/scaffolder/v2/actions lists them)", in.StepID, in.Action)
	}
	route := CustomRoute{Kind: c.Kind(), Context: ActionContext{
		TaskID: in.Task, StepID: in.StepID, Action: in.Action, TemplateRef: in.Template.Ref, UserRef: in.User.Ref,
	}}
	if c.Kind() == CustomKindExecutable {
		route.Shapes = !c.Network
		return route, nil
	}
	r, err := a.prepare(in, secrets)
	if err != nil {
		return CustomRoute{}, m.Error(err)
	}
	if err := a.Custom.CheckInput(c.ID, in.StepID, r.Input); err != nil {
		return CustomRoute{}, m.Error(err)
	}
	raw, _ := json.Marshal(r.Input)
	if m.Holds(string(raw)) {
		return CustomRoute{}, inputError("steps.%s.input: holds a secret; the input of %s, a Temporal activity on task queue %s, is recorded in Temporal's history in clear: give secrets to executable actions only", in.StepID, c.ID, c.TaskQueue)
	}
	route.TaskQueue, route.ActivityType, route.Input, route.Output = c.TaskQueue, c.ActivityType, r.Input, c.Output
	route.Timeout = c.Timeout
	if route.Timeout <= 0 {
		route.Timeout = DefaultCustomTimeout
	}
	return route, nil
}

// runCustomStep runs a step whose action is not built in: it asks a worker
// for the route (CustomInputActivity), then runs the executable's activity
// on Backlot's queue, or the activity on its own task queue, and checks the
// output. shapes reports a step that built the workspace.
func runCustomStep(ctx, ao workflow.Context, ai ActionInput, secrets Secrets) (res ActionResult, shapes bool, err error) {
	var route CustomRoute
	if err := workflow.ExecuteActivity(ao, CustomInputActivity, ai, secrets).Get(ctx, &route); err != nil {
		return ActionResult{}, false, err
	}
	if route.Kind == CustomKindExecutable {
		err := workflow.ExecuteActivity(ao, ai.Action, ai, secrets).Get(ctx, &res)
		return res, route.Shapes && err == nil, err
	}
	opts := workflow.GetActivityOptions(ao)
	opts.TaskQueue = route.TaskQueue
	opts.StartToCloseTimeout = route.Timeout
	opts.ScheduleToStartTimeout = CustomScheduleToStart
	// An activity of another SDK need not heartbeat.
	opts.HeartbeatTimeout = 0
	rc := workflow.WithActivityOptions(ctx, opts)
	var out map[string]any
	if err := workflow.ExecuteActivity(rc, route.ActivityType, route.Input, route.Context).Get(ctx, &out); err != nil {
		var te *temporal.TimeoutError
		if errors.As(err, &te) && te.TimeoutType().String() == "ScheduleToStart" {
			return ActionResult{}, false, fmt.Errorf("steps.%s: no worker polled task queue %s for activity %s within %s", ai.StepID, route.TaskQueue, route.ActivityType, CustomScheduleToStart)
		}
		return ActionResult{}, false, err
	}
	if err := CheckOutputSchema(route.Output, ai.Action, ai.StepID, out); err != nil {
		return ActionResult{}, false, fmt.Errorf("%v (the action answered what its output schema refuses)", err)
	}
	return ActionResult{Output: out, Log: []string{fmt.Sprintf("Ran activity %s on task queue %s", route.ActivityType, route.TaskQueue)}}, false, nil
}

// execAction runs an executable action in the scripts' sandbox: its input
// as JSON on stdin, its output as a JSON object on stdout, what it writes on
// stderr into the task log, the task's workspace as its working folder
// (/work/repo) and a scratch HOME. Its environment holds BACKLOT_TASK_ID,
// BACKLOT_STEP_ID, BACKLOT_ACTION, BACKLOT_USER_REF, BACKLOT_URL (the API's
// address, when the worker knows it) and the secrets its registration names.
// A non-zero exit fails the step at once, not retryable: the program saw
// the same input it would see again.
func execAction(c CustomAction) ActionFunc {
	return func(ctx context.Context, a *Activities, r *Run) error {
		if err := a.Custom.CheckInput(c.ID, r.In.StepID, r.Input); err != nil {
			return err
		}
		if a.Sandbox == nil {
			return inputError("steps.%s: %s is an executable action, and this worker has no sandbox to run it in (install bubblewrap, or start the worker with --insecure-scripts)", r.In.StepID, c.ID)
		}
		home, err := os.MkdirTemp("", "backlot-action-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(home)
		raw, err := json.Marshal(r.Input)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(home, execInputFile), raw, 0o600); err != nil {
			return err
		}
		env := []string{"BACKLOT_TASK_ID=" + r.In.Task, "BACKLOT_STEP_ID=" + r.In.StepID, "BACKLOT_ACTION=" + c.ID, "BACKLOT_USER_REF=" + r.In.User.Ref}
		if a.BacklotURL != "" {
			env = append(env, "BACKLOT_URL="+a.BacklotURL)
		}
		for _, name := range c.Secrets {
			if v, ok := r.Secrets[name]; ok {
				env = append(env, "BACKLOT_SECRET_"+secretVar(name)+"="+v)
			}
		}
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = DefaultCustomTimeout
		}
		script := "exec " + shellQuote(c.Command) + ` <"$HOME/` + execInputFile + `" >"$HOME/` + execOutputFile + `"`
		res, runErr := a.Sandbox.Run(ctx, sandbox.Spec{Script: script, Dir: r.Workspace.Dir, Home: home, Env: env, Network: c.Network, Timeout: timeout})
		var last string
		sc := bufio.NewScanner(strings.NewReader(res.Output))
		for sc.Scan() {
			if l := strings.TrimRight(sc.Text(), " \t\r"); l != "" {
				r.Logf("%s", l)
				last = l
			}
		}
		var ee *sandbox.ExitError
		switch {
		case errors.As(runErr, &ee):
			return inputError("steps.%s: %s failed (%v): %s", r.In.StepID, c.ID, ee, last)
		case errors.Is(runErr, sandbox.ErrNetworkRefused):
			return inputError("steps.%s: %s needs the network, and this worker's sandbox does not allow it", r.In.StepID, c.ID)
		case runErr != nil:
			return fmt.Errorf("steps.%s: %s: %w", r.In.StepID, c.ID, runErr)
		}
		out, err := readExecOutput(filepath.Join(home, execOutputFile))
		if err != nil {
			return inputError("steps.%s: %s: its output %v", r.In.StepID, c.ID, err)
		}
		if err := a.Custom.CheckOutput(c.ID, r.In.StepID, out); err != nil {
			return err
		}
		for k, v := range out {
			r.Set(k, v)
		}
		return nil
	}
}

// readExecOutput reads an executable's stdout: nothing is an empty output,
// otherwise one JSON object of at most MaxCustomOutput bytes.
func readExecOutput(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxCustomOutput+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxCustomOutput {
		return nil, fmt.Errorf("is larger than %d bytes", MaxCustomOutput)
	}
	if strings.TrimSpace(string(raw)) == "" {
		return map[string]any{}, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("is not JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is a JSON %s, not an object", jsonKind(v))
	}
	return m, nil
}

func jsonKind(v any) string {
	if v == nil {
		return "null"
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Slice:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return "value"
}

// secretVar is a secret's name as part of a variable name.
func secretVar(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, name)
}

// shellQuote quotes each word for sh.
func shellQuote(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// placeholders are the dry-run outputs of an action: each property of its
// output schema with a value of the property's type ("dry-run" for a
// string).
func placeholders(schema map[string]any) map[string]any {
	props, _ := schema["properties"].(map[string]any)
	out := map[string]any{}
	for name, p := range props {
		ps, _ := p.(map[string]any)
		typ := ps["type"]
		if list, ok := typ.([]any); ok && len(list) > 0 {
			typ = list[0]
		}
		switch typ {
		case "string":
			out[name] = "dry-run"
		case "integer", "number":
			out[name] = 0
		case "boolean":
			out[name] = false
		case "array":
			out[name] = []any{}
		case "object":
			out[name] = map[string]any{}
		}
	}
	return out
}
