package scaffolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/workflows/scaffolder/nunjucks"
)

// APIVersion is the apiVersion of the templates Backlot runs.
const APIVersion = "scaffolder.backstage.io/v1beta3"

// stepID is what a step's id may be.
var stepID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// Template is a Template entity read for running: its parameter pages, its
// steps and its output. It is made by FromEntity and not changed after.
type Template struct {
	// Ref is the template entity's ref.
	Ref string
	// Title and Description come from its metadata.
	Title, Description string
	// Pages are the parameter pages, each a JSON Schema of an object.
	Pages []Page
	// Steps run in order.
	Steps []Step
	// Output holds links and text shown when a task ends; its strings may
	// hold expressions.
	Output map[string]any
}

// Page is one page of a template's parameters.
type Page struct {
	Title       string
	Description string
	// Schema is the page's JSON Schema, as written (with ui: keys).
	Schema map[string]any
}

// Step is one step of a template.
type Step struct {
	ID     string
	Name   string
	Action string
	// Input is rendered with the task's values before the action runs.
	Input map[string]any
	// If, when set, is a bool or an expression; the step is skipped when it
	// renders false, "", null, 0 or "false".
	If any
	// Each, when set, is a list or an expression yielding one: the action
	// runs once per item, with ${{ each.value }} and ${{ each.index }}.
	Each any
}

// TemplateError is a template that cannot be run: it names the template and
// the field.
type TemplateError struct {
	Template string
	Field    string
	Problem  string
}

// Error returns "template T: field: problem".
func (e *TemplateError) Error() string {
	return fmt.Sprintf("template %s: %s: %s", e.Template, e.Field, e.Problem)
}

// Is reports whether target is fault.Invalid: a template that cannot run is
// invalid input.
func (e *TemplateError) Is(target error) bool { return target == fault.Invalid }

// FromEntity reads a Template entity's body. It checks what running needs
// (apiVersion, steps with unique ids and an action, parameter pages that are
// objects) and returns every problem found, joined.
func FromEntity(ref string, body []byte) (*Template, error) {
	var raw struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"metadata"`
		Spec struct {
			Parameters json.RawMessage  `json:"parameters"`
			Steps      []map[string]any `json:"steps"`
			Output     map[string]any   `json:"output"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &TemplateError{Template: ref, Field: "(body)", Problem: err.Error()}
	}
	t := &Template{Ref: ref, Title: raw.Metadata.Title, Description: raw.Metadata.Description, Output: raw.Spec.Output}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &TemplateError{Template: ref, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if raw.Kind != "Template" {
		bad("kind", "is %q, want Template", raw.Kind)
	}
	if raw.APIVersion != APIVersion {
		bad("apiVersion", "is %q; Backlot runs %s templates", raw.APIVersion, APIVersion)
	}
	pages, err := pagesOf(raw.Spec.Parameters)
	if err != nil {
		bad("spec.parameters", "%v", err)
	}
	t.Pages = pages
	ids := map[string]bool{}
	for i, s := range raw.Spec.Steps {
		field := fmt.Sprintf("spec.steps[%d]", i)
		st := Step{If: s["if"], Each: s["each"]}
		st.ID, _ = s["id"].(string)
		st.Name, _ = s["name"].(string)
		st.Action, _ = s["action"].(string)
		switch {
		case st.ID == "":
			st.ID = fmt.Sprintf("step-%d", i+1)
		case !stepID.MatchString(st.ID):
			bad(field+".id", "%q: letters, digits, - and _ only", st.ID)
		case ids[st.ID]:
			bad(field+".id", "%q appears twice", st.ID)
		}
		ids[st.ID] = true
		if st.Action == "" {
			bad(field+".action", "is empty")
		}
		if in, ok := s["input"]; ok && in != nil {
			m, ok := in.(map[string]any)
			if !ok {
				bad(field+".input", "is not an object")
			}
			st.Input = m
		}
		t.Steps = append(t.Steps, st)
	}
	if len(t.Steps) == 0 {
		bad("spec.steps", "is empty")
	}
	return t, errors.Join(errs...)
}

// pagesOf reads spec.parameters: one object schema or a list of them.
func pagesOf(raw json.RawMessage) ([]Page, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []map[string]any
	if raw[0] == '{' {
		var one map[string]any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []map[string]any{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("want an object or a list of objects: %v", err)
	}
	pages := make([]Page, len(list))
	for i, s := range list {
		pages[i].Title, _ = s["title"].(string)
		pages[i].Description, _ = s["description"].(string)
		pages[i].Schema = s
	}
	return pages, nil
}

// ParameterSchema is the answer of Backstage's parameter-schema endpoint.
type ParameterSchema struct {
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Steps       []ParameterStep `json:"steps"`
}

// ParameterStep is one page of a ParameterSchema.
type ParameterStep struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// ParameterSchema returns the pages as Backstage's frontend asks for them.
func (t *Template) ParameterSchema() ParameterSchema {
	out := ParameterSchema{Title: t.Title, Description: t.Description, Steps: []ParameterStep{}}
	for _, p := range t.Pages {
		out.Steps = append(out.Steps, ParameterStep(p))
	}
	return out
}

// ParameterError is a parameter a page's schema refuses; Field is its path
// (parameters.name).
type ParameterError struct {
	Field   string
	Problem string
}

// Error returns "parameters.field: problem".
func (e *ParameterError) Error() string { return e.Field + ": " + e.Problem }

// Is reports whether target is fault.Invalid: a refused parameter is invalid
// input.
func (e *ParameterError) Is(target error) bool { return target == fault.Invalid }

var printer = message.NewPrinter(language.English)

// flatten turns a validation error into one ParameterError per leaf cause.
func flatten(ve *jsonschema.ValidationError) []error {
	if len(ve.Causes) == 0 {
		field := "parameters"
		for _, tok := range ve.InstanceLocation {
			field += "." + tok
		}
		msg := ve.ErrorKind.LocalizedString(printer)
		// A missing property is reported at its object: name it instead.
		if m := missing.FindStringSubmatch(msg); m != nil {
			var out []error
			for _, p := range strings.Split(m[1], ", ") {
				out = append(out, &ParameterError{Field: field + "." + strings.Trim(p, "'"), Problem: "is required"})
			}
			return out
		}
		return []error{&ParameterError{Field: field, Problem: msg}}
	}
	var out []error
	for _, c := range ve.Causes {
		out = append(out, flatten(c)...)
	}
	return out
}

var missing = regexp.MustCompile(`^missing propert(?:y|ies) (.+)$`)

// jsonDoc turns values into what the schema validator reads (numbers kept exact).
func jsonDoc(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// compilePage compiles one page's schema, loading nothing from outside. Keys
// such as ui:field are not JSON Schema keywords and are ignored.
func compilePage(url string, schema map[string]any) (*jsonschema.Schema, error) {
	doc, err := jsonDoc(schema)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// Render renders a step input (or any value of a template) as Backstage's
// scaffolder does: every string in it, in maps and lists too, is a template
// of Backstage's language (nunjucks with ${{ }} variables; see package
// nunjucks) over vars (parameters, steps, user, secrets, each). A string that
// is one expression keeps the expression's type (number, bool, object,
// list); one that renders undefined (an undefined name, alone) drops its key
// from a map and is null in a list. A string whose template does not parse
// or fails to evaluate is kept as written, as Backstage keeps it (so
// ${{ x || 0 }}, which nunjucks cannot read, stays text); a render stopped by
// its limits or time budget fails, naming where (the field path).
func Render(where string, v any, vars map[string]any) (any, error) {
	if !hasTemplate(v) {
		return v, nil
	}
	eng, err := nunjucks.Default()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s, err := eng.Session(nunjucks.Options{}, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer s.Close()
	out, _, err := renderTree(s, where, v)
	return out, err
}

// RenderOutput renders a template's output as Backstage does: with Render,
// then each item of output.links and output.text that has an if is kept
// when its if is true (a JavaScript truth), without its if.
func RenderOutput(output map[string]any, vars map[string]any) (map[string]any, error) {
	o, err := Render("output", output, vars)
	if err != nil {
		return nil, err
	}
	m, _ := o.(map[string]any)
	for _, k := range []string{"links", "text"} {
		list, ok := m[k].([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, item := range list {
			obj, ok := item.(map[string]any)
			if !ok {
				kept = append(kept, item)
				continue
			}
			cond, has := obj["if"]
			if !has {
				kept = append(kept, item)
				continue
			}
			if !truthy(cond) {
				continue
			}
			rest := make(map[string]any, len(obj))
			for k, v := range obj {
				if k != "if" {
					rest[k] = v
				}
			}
			kept = append(kept, rest)
		}
		m[k] = kept
	}
	return m, nil
}

// warmTemplates compiles the template engine and loads two runtimes, so a
// worker's first renders in workflow code (if, each, output) do not wait
// for them. Without the bundle it does nothing: renders name the problem.
func warmTemplates() {
	if e, err := nunjucks.Default(); err == nil {
		_ = e.Warm(2)
	}
}

// hasTemplate reports whether a string in v holds a tag of the template
// language; without one a value renders as it is.
func hasTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "${{") || strings.Contains(x, "{%") || strings.Contains(x, "{#")
	case map[string]any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}

// renderTree renders v in s; defined is false for a string that rendered
// undefined.
func renderTree(s *nunjucks.Session, where string, v any) (out any, defined bool, err error) {
	switch x := v.(type) {
	case string:
		if !hasTemplate(x) {
			return x, true, nil
		}
		r, defined, err := s.RenderValue(x)
		var ne *nunjucks.Error
		if errors.As(err, &ne) && !ne.Budget() {
			return x, true, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", where, err)
		}
		return r, defined, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, ok, err := renderTree(s, where+"."+k, e)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out[k] = r
			}
		}
		return out, true, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, _, err := renderTree(s, fmt.Sprintf("%s[%d]", where, i), e)
			if err != nil {
				return nil, false, err
			}
			out[i] = r
		}
		return out, true, nil
	}
	return v, true, nil
}

// Enabled reports whether the step runs with vars, as Backstage decides: no
// if, or an if that is neither false nor a string rendering to a false value
// of JavaScript (false, "", 0, null, undefined, an empty list).
func (s *Step) Enabled(vars map[string]any) (bool, error) {
	switch x := s.If.(type) {
	case nil:
		return true, nil
	case bool:
		return x, nil
	case string:
		v, err := Render("steps."+s.ID+".if", x, vars)
		if err != nil {
			return false, err
		}
		return truthy(v), nil
	}
	return true, nil
}

// truthy is JavaScript's truth of a rendered value, with an empty list
// false (lodash's isArray check in Backstage's isTruthy).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case []any:
		return len(x) > 0
	}
	return true
}

// Iterations returns the each variable of every run of the step, as
// Backstage gives it: nil without each; for a list, {key: "0", value,
// index: 0}, …; for an object, {key, value, index} in key order.
func (s *Step) Iterations(vars map[string]any) ([]map[string]any, error) {
	if s.Each == nil {
		return nil, nil
	}
	v, err := Render("steps."+s.ID+".each", s.Each, vars)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for i, item := range x {
			out = append(out, map[string]any{"key": fmt.Sprint(i), "value": item, "index": int64(i)})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			out = append(out, map[string]any{"key": k, "value": x[k], "index": int64(i)})
		}
	default:
		return nil, &TemplateError{Field: "steps." + s.ID + ".each", Problem: fmt.Sprintf("renders to %T, want a list or an object", v)}
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out, nil
}

// Items returns what the step's each loops over: nil without each, else the
// rendered list (a map's entries as {key, value}, in key order).
func (s *Step) Items(vars map[string]any) ([]any, error) {
	if s.Each == nil {
		return nil, nil
	}
	v, err := Render("steps."+s.ID+".each", s.Each, vars)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = map[string]any{"key": k, "value": x[k]}
		}
		return out, nil
	}
	return nil, &TemplateError{Field: "steps." + s.ID + ".each", Problem: fmt.Sprintf("renders to %T, want a list or an object", v)}
}
