package scaffolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// CustomInputActivity is the activity, run by Backlot's own workers, that
// renders and checks the input of a custom action and says how the action
// runs (CustomRoute).
const CustomInputActivity = "backlot:custom-input"

// The kinds of custom action.
const (
	// CustomKindActivity is a Temporal activity on a task queue of its own,
	// written with any Temporal SDK and run by the deployment's own worker.
	CustomKindActivity = "activity"
	// CustomKindExecutable is a program on Backlot's workers that reads its
	// input as JSON on stdin and writes its output as JSON on stdout, run in
	// the scripts' sandbox with the task's workspace as its working folder.
	CustomKindExecutable = "executable"
)

// DefaultCustomTimeout bounds one run of a custom action without a timeout
// of its own.
const DefaultCustomTimeout = 5 * time.Minute

// CustomAction is an action a deployment adds without changing Backlot:
// either a Temporal activity (TaskQueue and ActivityType) or an executable
// (Command). Its input and output are JSON objects described by JSON
// Schemas (draft 7), which GET /v2/actions shows and every step's input is
// checked against before the action runs.
type CustomAction struct {
	// ID is the action id templates name (acme:thing:do).
	ID string
	// Description says what it does.
	Description string
	// Input and Output are JSON Schemas of the input and output objects;
	// nil accepts any object.
	Input, Output map[string]any
	// TaskQueue and ActivityType name a Temporal activity: the workflow
	// schedules ActivityType on TaskQueue with two arguments, the rendered
	// input and an ActionContext, and takes its result, a JSON object, as the
	// step's output.
	TaskQueue, ActivityType string
	// Command is an executable and its arguments: the program reads the
	// input on stdin and writes its output on stdout; what it writes on
	// stderr goes to the task log.
	Command []string
	// Network gives an executable the host's network (inside the sandbox it
	// has none otherwise).
	Network bool
	// Secrets are the names of task secrets an executable receives, each as
	// the variable BACKLOT_SECRET_<NAME> (upper case, - as _).
	Secrets []string
	// Timeout bounds one run; zero is DefaultCustomTimeout.
	Timeout time.Duration
}

// Kind is CustomKindActivity or CustomKindExecutable.
func (c CustomAction) Kind() string {
	if len(c.Command) > 0 {
		return CustomKindExecutable
	}
	return CustomKindActivity
}

// ActionContext is the second argument of a custom Temporal activity: the
// task and step it runs for.
type ActionContext struct {
	TaskID      string `json:"taskId"`
	StepID      string `json:"stepId"`
	Action      string `json:"action"`
	TemplateRef string `json:"templateRef"`
	UserRef     string `json:"userRef"`
}

// CustomRoute is what CustomInputActivity answers the workflow: how the
// step's action runs and, for a Temporal activity, its rendered and checked
// input.
type CustomRoute struct {
	Kind string `json:"kind"`
	// TaskQueue and ActivityType locate an activity.
	TaskQueue    string         `json:"taskQueue,omitempty"`
	ActivityType string         `json:"activityType,omitempty"`
	Input        map[string]any `json:"input,omitempty"`
	// Output is the output schema the workflow checks the answer against.
	Output  map[string]any `json:"output,omitempty"`
	Context ActionContext  `json:"context"`
	// Timeout bounds the activity's run.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Shapes marks an executable that touches only the workspace, so a
	// worker that did not run it replays it before later steps.
	Shapes bool `json:"shapes,omitempty"`
}

// CustomActions are the custom actions of a deployment, with their schemas
// compiled. It is safe for concurrent use once built.
type CustomActions struct {
	byID map[string]*customEntry
	ids  []string
}

type customEntry struct {
	CustomAction
	in, out *jsonschema.Schema
}

// schemaPrinter prints validation messages in English.
var schemaPrinter = message.NewPrinter(language.English)

// missingProperty matches the validator's message for missing properties.
var missingProperty = regexp.MustCompile(`^missing propert(?:y|ies) (.+)$`)

var customID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)+$`)

// NewCustomActions checks and compiles custom actions. An id that is not of
// the form a:b, that repeats, or that names a built-in action, a schema that
// does not compile, and an action that is both or neither an activity and
// an executable are errors naming the action and the field.
func NewCustomActions(list []CustomAction) (*CustomActions, error) {
	c := &CustomActions{byID: map[string]*customEntry{}}
	for i, a := range list {
		where := fmt.Sprintf("actions[%d]", i)
		if a.ID != "" {
			where = fmt.Sprintf("actions[%d] (%s)", i, a.ID)
		}
		switch {
		case !customID.MatchString(a.ID):
			return nil, fmt.Errorf("%s.id: %q is not an action id (namespace:name, e.g. acme:service:register)", where, a.ID)
		case c.byID[a.ID] != nil:
			return nil, fmt.Errorf("%s.id: %q is registered twice", where, a.ID)
		case isBuiltin(a.ID):
			return nil, fmt.Errorf("%s.id: %q is a built-in action; give the custom one its own id", where, a.ID)
		case len(a.Command) > 0 && (a.TaskQueue != "" || a.ActivityType != ""):
			return nil, fmt.Errorf("%s: both a command and a task queue; an action is an executable or a Temporal activity", where)
		case len(a.Command) == 0 && (a.TaskQueue == "" || a.ActivityType == ""):
			return nil, fmt.Errorf("%s: give a command (an executable) or a taskQueue and an activityType (a Temporal activity)", where)
		case a.Kind() == CustomKindActivity && (a.Network || len(a.Secrets) > 0):
			return nil, fmt.Errorf("%s: network and secrets apply to executables; a Temporal activity runs on its own worker, and its input is recorded in Temporal's history", where)
		case a.Timeout < 0:
			return nil, fmt.Errorf("%s.timeout: negative", where)
		}
		e := &customEntry{CustomAction: a}
		var err error
		if e.in, err = compileActionSchema("backlot:///actions/"+a.ID+"/input.json", a.Input); err != nil {
			return nil, fmt.Errorf("%s.schema.input: %v", where, err)
		}
		if e.out, err = compileActionSchema("backlot:///actions/"+a.ID+"/output.json", a.Output); err != nil {
			return nil, fmt.Errorf("%s.schema.output: %v", where, err)
		}
		c.byID[a.ID] = e
		c.ids = append(c.ids, a.ID)
	}
	sort.Strings(c.ids)
	return c, nil
}

func isBuiltin(id string) bool {
	_, ok := ActionByID(id)
	return ok
}

// customIDs are the ids of a's custom actions.
func (a *Activities) customIDs() []string {
	if a == nil || a.Custom == nil {
		return nil
	}
	return a.Custom.ids
}

// Lookup returns the custom action id.
func (c *CustomActions) Lookup(id string) (CustomAction, bool) {
	if c == nil {
		return CustomAction{}, false
	}
	e, ok := c.byID[id]
	if !ok {
		return CustomAction{}, false
	}
	return e.CustomAction, true
}

// Len is the number of custom actions.
func (c *CustomActions) Len() int {
	if c == nil {
		return 0
	}
	return len(c.ids)
}

// Described returns the custom actions as GET /v2/actions lists them, by id.
func (c *CustomActions) Described() []Action {
	if c == nil {
		return nil
	}
	out := make([]Action, 0, len(c.ids))
	for _, id := range c.ids {
		e := c.byID[id]
		schema := map[string]any{}
		if e.Input != nil {
			schema["input"] = e.Input
		}
		if e.Output != nil {
			schema["output"] = e.Output
		}
		out = append(out, Action{ID: id, Description: e.Description, Schema: schema})
	}
	return out
}

// CheckInput checks a step's rendered input against the action's input
// schema; the error names the step, the action and each field at fault, and
// is non-retryable.
func (c *CustomActions) CheckInput(id, step string, input map[string]any) error {
	e, ok := c.byID[id]
	if !ok {
		return inputError("steps.%s.action: no action %q (GET /api/scaffolder/v2/actions lists them)", step, id)
	}
	if err := validateAgainst(e.in, input, "steps."+step+".input", id); err != nil {
		return inputError("%v", err)
	}
	return nil
}

// CheckOutput checks what an action answered against its output schema.
func (c *CustomActions) CheckOutput(id, step string, output map[string]any) error {
	e, ok := c.byID[id]
	if !ok {
		return nil
	}
	if err := validateAgainst(e.out, output, "steps."+step+".output", id); err != nil {
		return inputError("%v (the action answered what its output schema refuses)", err)
	}
	return nil
}

// CheckOutputSchema checks output against a schema carried by the workflow
// (see CustomRoute); nil accepts anything.
func CheckOutputSchema(schema map[string]any, action, step string, output map[string]any) error {
	s, err := compileActionSchema("backlot:///actions/"+action+"/output.json", schema)
	if err != nil {
		return err
	}
	return validateAgainst(s, output, "steps."+step+".output", action)
}

// compileActionSchema compiles a draft-7 schema, loading nothing from
// outside; nil is nil (anything goes).
func compileActionSchema(url string, schema map[string]any) (*jsonschema.Schema, error) {
	if schema == nil {
		return nil, nil
	}
	doc, err := schemaDoc(schema)
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft7)
	comp.UseLoader(jsonschema.SchemeURLLoader{})
	if err := comp.AddResource(url, doc); err != nil {
		return nil, err
	}
	return comp.Compile(url)
}

func schemaDoc(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// validateAgainst validates v against s and names every leaf problem as
// where.field: problem (action id).
func validateAgainst(s *jsonschema.Schema, v map[string]any, where, action string) error {
	if s == nil {
		return nil
	}
	if v == nil {
		v = map[string]any{}
	}
	doc, err := schemaDoc(v)
	if err != nil {
		return fmt.Errorf("%s: %v (action %s)", where, err, action)
	}
	err = s.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	var walk func(ve *jsonschema.ValidationError)
	walk = func(ve *jsonschema.ValidationError) {
		if len(ve.Causes) > 0 {
			for _, c := range ve.Causes {
				walk(c)
			}
			return
		}
		field := where
		for _, tok := range ve.InstanceLocation {
			field += "." + tok
		}
		msg := ve.ErrorKind.LocalizedString(schemaPrinter)
		if m := missingProperty.FindStringSubmatch(msg); m != nil {
			for _, p := range strings.Split(m[1], ", ") {
				msgs = append(msgs, fmt.Sprintf("%s.%s: is required", field, strings.Trim(p, "'")))
			}
			return
		}
		msgs = append(msgs, field+": "+msg)
	}
	walk(ve)
	sort.Strings(msgs)
	return fmt.Errorf("%s (action %s)", strings.Join(msgs, "; "), action)
}
