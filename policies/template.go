package policies

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"google.golang.org/protobuf/types/known/structpb"
)

// TemplateCostLimit bounds the work of one ${{ }} expression, in CEL cost
// units: plenty for reading parameters and step outputs and joining strings,
// and a stop for a comprehension over a huge list.
const TemplateCostLimit = 100_000

// MaxTemplateLength bounds a template text (a step input, a file's content).
const MaxTemplateLength = 1 << 20

// templateVars are the variables of template expressions, each a map (or,
// for each, any value):
//
//	parameters  the task's parameters
//	steps       step outputs by step id: steps.publish.output.remoteUrl
//	user        the user running the task: user.ref, user.entity
//	secrets     the task's secrets
//	values      the values of a fetch:template step
//	each        the item of a step's each loop
//	entity      the entity of a migration target
var templateVars = []string{"parameters", "steps", "user", "secrets", "values", "each", "entity"}

var (
	templateEnvOnce sync.Once
	templateEnv     *cel.Env
	templateEnvErr  error
)

// tplEnv is the environment of template expressions, built once, with the
// template functions (see templateFunctions).
func tplEnv() (*cel.Env, error) {
	templateEnvOnce.Do(func() {
		opts := []cel.EnvOption{cel.OptionalTypes(), templateFunctions()}
		for _, v := range templateVars {
			opts = append(opts, cel.Variable(v, cel.DynType))
		}
		templateEnv, templateEnvErr = cel.NewEnv(opts...)
	})
	return templateEnv, templateEnvErr
}

// Template is a text with ${{ expression }} parts, parsed and compiled once.
// A Template is safe for concurrent use.
type Template struct {
	text  string
	parts []tplPart
}

// tplPart is literal text, a compiled expression, or an if block (cond set,
// with the parts of each branch).
type tplPart struct {
	literal string
	expr    string
	prg     cel.Program
	offset  int // of the expression in the text
	cond    *tplPart
	then    []tplPart
	els     []tplPart
}

// TemplateError is an expression of a template that does not parse, compile
// or evaluate: it names the expression, its line and column in the text, and
// the problem.
type TemplateError struct {
	Expr    string
	Line    int
	Column  int
	Message string
}

// Error returns "L:C: ${{ expr }}: message".
func (e *TemplateError) Error() string {
	return fmt.Sprintf("%d:%d: ${{ %s }}: %s", e.Line, e.Column, e.Expr, e.Message)
}

// ParseTemplate splits text at its ${{ }} expressions and compiles each with
// CEL. Backstage's filter form (`parameters.name | dump`,
// `parameters.repoUrl | parseRepoUrl`) is read as a call of the filter on
// the value (dump(parameters.name)). Blocks {% if EXPR %} … {% else %} …
// {% endif %} keep their text when EXPR is true (not false, null, "" or 0);
// {%- and -%} trim the white space before and after the tag, as in
// Backstage's skeletons. A text without expressions is a literal.
func ParseTemplate(text string) (*Template, error) {
	if len(text) > MaxTemplateLength {
		return nil, &TemplateError{Line: 1, Column: 1, Message: fmt.Sprintf("the text is longer than %d bytes", MaxTemplateLength)}
	}
	env, err := tplEnv()
	if err != nil {
		return nil, err
	}
	compile := func(raw string, start int) (tplPart, error) {
		ast, iss := env.Compile(filtersToCalls(raw))
		if iss.Err() != nil {
			line, col := position(text, start)
			return tplPart{}, &TemplateError{Expr: raw, Line: line, Column: col, Message: strings.ReplaceAll(iss.Err().Error(), "\n", " ")}
		}
		prg, err := env.Program(ast, cel.CostLimit(TemplateCostLimit), cel.CostTracking(outputCost{}))
		if err != nil {
			line, col := position(text, start)
			return tplPart{}, &TemplateError{Expr: raw, Line: line, Column: col, Message: err.Error()}
		}
		return tplPart{expr: raw, prg: prg, offset: start}, nil
	}
	// Each open block: its part, and whether its else was seen.
	type open struct {
		part   *tplPart
		inElse bool
	}
	root := &tplPart{}
	stack := []open{{part: root}}
	add := func(p tplPart) {
		top := &stack[len(stack)-1]
		if top.inElse {
			top.part.els = append(top.part.els, p)
		} else {
			top.part.then = append(top.part.then, p)
		}
	}
	trimNext := false
	rest, offset := text, 0
	for {
		i := indexTag(rest)
		lit := rest
		if i >= 0 {
			lit = rest[:i]
		}
		if trimNext {
			lit = strings.TrimLeft(lit, " \t\r\n")
			trimNext = false
		}
		if i < 0 {
			if lit != "" {
				add(tplPart{literal: lit})
			}
			break
		}
		start := offset + i
		tag := rest[i:]
		opener, closer := "${{", "}}"
		if strings.HasPrefix(tag, "{%") {
			opener, closer = "{%", "%}"
		}
		// The closer is looked for after the opener: in "{%}" the "%}"
		// overlaps the "{%" and closes nothing.
		j := strings.Index(tag[len(opener):], closer)
		if j >= 0 {
			j += len(opener)
		}
		if j < 0 {
			line, col := position(text, start)
			return nil, &TemplateError{Expr: strings.TrimSpace(strings.TrimPrefix(tag[len(opener):], "-")), Line: line, Column: col, Message: "no closing " + closer}
		}
		if strings.HasPrefix(tag, "{%-") {
			lit = strings.TrimRight(lit, " \t\r\n")
		}
		if lit != "" {
			add(tplPart{literal: lit})
		}
		if closer == "}}" {
			p, err := compile(strings.TrimSpace(tag[3:j]), start)
			if err != nil {
				return nil, err
			}
			add(p)
		} else {
			body := strings.TrimPrefix(tag[2:j], "-")
			if strings.HasSuffix(body, "-") {
				body, trimNext = strings.TrimSuffix(body, "-"), true
			}
			word, arg, _ := strings.Cut(strings.TrimSpace(body), " ")
			line, col := position(text, start)
			switch word {
			case "if":
				cond, err := compile(strings.TrimSpace(arg), start)
				if err != nil {
					return nil, err
				}
				add(tplPart{cond: &cond})
				top := &stack[len(stack)-1]
				list := &top.part.then
				if top.inElse {
					list = &top.part.els
				}
				stack = append(stack, open{part: &(*list)[len(*list)-1]})
			case "else":
				if len(stack) == 1 || stack[len(stack)-1].inElse {
					return nil, &TemplateError{Expr: "else", Line: line, Column: col, Message: "an else without its if"}
				}
				stack[len(stack)-1].inElse = true
			case "endif":
				if len(stack) == 1 {
					return nil, &TemplateError{Expr: "endif", Line: line, Column: col, Message: "an endif without its if"}
				}
				stack = stack[:len(stack)-1]
			default:
				return nil, &TemplateError{Expr: strings.TrimSpace(body), Line: line, Column: col, Message: "unknown tag; Backlot's templates know if, else and endif"}
			}
		}
		rest, offset = tag[j+2:], start+j+2
	}
	if len(stack) > 1 {
		c := stack[len(stack)-1].part.cond
		line, col := position(text, c.offset)
		return nil, &TemplateError{Expr: "if " + c.expr, Line: line, Column: col, Message: "no endif"}
	}
	return &Template{text: text, parts: root.then}, nil
}

// indexTag returns where the next ${{ or {% starts in s, or -1.
func indexTag(s string) int {
	i, j := strings.Index(s, "${{"), strings.Index(s, "{%")
	switch {
	case i < 0:
		return j
	case j < 0 || i < j:
		return i
	}
	return j
}

// position returns the 1-based line and column of byte offset i of text.
func position(text string, i int) (line, col int) {
	line = 1 + strings.Count(text[:i], "\n")
	return line, i - strings.LastIndex(text[:i], "\n")
}

// filtersToCalls turns `a | f | g(x)` into `g(f(a), x)`: the filters of
// Backstage's templates, at the top level of the expression (not inside
// brackets or string literals; call a function there: f(a)).
func filtersToCalls(expr string) string {
	var parts []string
	var cur strings.Builder
	var quote rune
	depth := 0
	for i, r := range expr {
		switch {
		case quote != 0:
			if r == quote && (i == 0 || expr[i-1] != '\\') {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '(' || r == '[' || r == '{':
			depth++
		case r == ')' || r == ']' || r == '}':
			depth--
		case r == '|' && depth == 0 && !strings.HasPrefix(expr[i:], "||") && (i == 0 || expr[i-1] != '|'):
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	parts = append(parts, cur.String())
	out := strings.TrimSpace(parts[0])
	for _, f := range parts[1:] {
		f = strings.TrimSpace(f)
		name, args, hasArgs := strings.Cut(f, "(")
		if hasArgs {
			out = fmt.Sprintf("%s(%s, %s", strings.TrimSpace(name), out, args)
		} else {
			out = fmt.Sprintf("%s(%s)", name, out)
		}
	}
	return out
}

// Render evaluates the template with vars (see templateVars; missing ones are
// empty maps). A template that is one expression and nothing else yields the
// expression's value as JSON-like Go values (string, int64, float64, bool,
// []any, map[string]any), so `${{ parameters.port }}` stays a number; any
// other template yields a string, each value rendered as text (strings as
// they are, other values as JSON).
func (t *Template) Render(vars map[string]any) (any, error) {
	act := map[string]any{}
	for _, v := range templateVars {
		if x, ok := vars[v]; ok && x != nil {
			act[v] = x
		} else {
			act[v] = map[string]any{}
		}
	}
	if len(t.parts) == 1 && t.parts[0].prg != nil {
		return t.eval(t.parts[0], act)
	}
	var b strings.Builder
	if err := t.write(&b, t.parts, act); err != nil {
		return nil, err
	}
	if b.Len() > MaxRenderedLength {
		return nil, &TemplateError{Line: 1, Column: 1, Message: ErrRenderedTooLong.Error()}
	}
	return b.String(), nil
}

// write renders parts as text into b.
func (t *Template) write(b *strings.Builder, parts []tplPart, act map[string]any) error {
	for _, p := range parts {
		if b.Len() > MaxRenderedLength {
			line, col := position(t.text, p.offset)
			return &TemplateError{Expr: p.expr, Line: line, Column: col, Message: ErrRenderedTooLong.Error()}
		}
		switch {
		case p.cond != nil:
			v, err := t.eval(*p.cond, act)
			if err != nil {
				return err
			}
			branch := p.els
			if truthy(v) {
				branch = p.then
			}
			if err := t.write(b, branch, act); err != nil {
				return err
			}
		case p.prg == nil:
			b.WriteString(p.literal)
		default:
			v, err := t.eval(p, act)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			if s, ok := v.(string); ok {
				b.WriteString(s)
				continue
			}
			j, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b.Write(j)
		}
	}
	return nil
}

// truthy is the truth of an if block's value: not false, null, "", 0 or an
// empty list or object.
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
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// RenderString renders the template and requires a string, which a
// single-expression template of another type is turned into as JSON.
func (t *Template) RenderString(vars map[string]any) (string, error) {
	v, err := t.Render(vars)
	if err != nil {
		return "", err
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	j, err := json.Marshal(v)
	return string(j), err
}

// eval runs one expression and converts its value to plain Go values. A
// field that is not there (an optional parameter left out) is null, which
// renders as nothing in text, as in Backstage's templates.
func (t *Template) eval(p tplPart, act map[string]any) (any, error) {
	out, _, err := p.prg.Eval(act)
	if err != nil && strings.HasPrefix(err.Error(), "no such key") {
		return nil, nil
	}
	if err != nil {
		line, col := position(t.text, p.offset)
		return nil, &TemplateError{Expr: p.expr, Line: line, Column: col, Message: err.Error()}
	}
	v, err := plain(out)
	if err != nil {
		line, col := position(t.text, p.offset)
		return nil, &TemplateError{Expr: p.expr, Line: line, Column: col, Message: err.Error()}
	}
	return v, nil
}

// plain converts a CEL value to JSON-like Go values.
func plain(v ref.Val) (any, error) {
	if v == types.NullValue {
		return nil, nil
	}
	j, err := v.ConvertToNative(jsonValueType)
	if err != nil {
		return nil, err
	}
	if pv, ok := j.(*structpb.Value); ok && jsonLengthOver(pv, MaxRenderedLength) {
		return nil, ErrRenderedTooLong
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	// jsonLengthOver counts a lower bound; escapes (json.Marshal writes "<"
	// as six bytes) can take the JSON past the limit all the same.
	if len(b) > MaxRenderedLength {
		return nil, ErrRenderedTooLong
	}
	return DecodeJSON(b)
}

// ParseRepoURL reads Backstage's repository location form,
// host?owner=O&repo=R (with organization, workspace and project for other
// hosts), into its parts.
func ParseRepoURL(s string) (map[string]any, error) {
	host, query, ok := strings.Cut(s, "?")
	if !ok || host == "" {
		return nil, fmt.Errorf("%q is not a repository location (host?owner=O&repo=R)", s)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	if q.Get("repo") == "" {
		return nil, fmt.Errorf("%q names no repo", s)
	}
	out := map[string]any{"host": host, "repo": q.Get("repo")}
	for _, k := range []string{"owner", "organization", "workspace", "project"} {
		if v := q.Get(k); v != "" {
			out[k] = v
		}
	}
	return out, nil
}
