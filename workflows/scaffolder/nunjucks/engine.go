package nunjucks

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/policies"
	"github.com/dlclark/regexp2"
	"github.com/dop251/goja"
)

// A regular expression of a template (replace(r/…/, …), which Backstage
// allows) that needs backtracking runs in regexp2, outside what goja's
// Interrupt can stop: each match gets RegexpMatchTimeout, after which it
// counts as no match, so a catastrophic pattern cannot hold a worker.
func init() { regexp2.DefaultMatchTimeout = RegexpMatchTimeout }

// RegexpMatchTimeout bounds one match of a backtracking regular expression
// of a template.
const RegexpMatchTimeout = 2 * time.Second

//go:embed bundle
var bundleFS embed.FS

// bundlePath is the bundle's path inside bundleFS.
const bundlePath = "bundle/nunjucks.js"

// MaxRenderedLength bounds what one render produces: the text of a rendered
// template, the JSON of a sole expression's value, and every value a filter
// builds on the way (nunjitsu's outputCodeUnits). A chain of replace or dump
// that doubles its text at each step stops here with a *Error naming it.
const MaxRenderedLength = 2 << 20

// MaxTemplateLength bounds the source of one template text (a step input, a
// file's content): nunjitsu's sourceCodeUnits.
const MaxTemplateLength = 2 << 20

// WorkLimit is the evaluation work one render may do, in nunjitsu's work
// units (about one per node evaluated or loop iteration): plenty for reading
// parameters and step outputs and looping over lists, and a stop for a loop
// over a huge range.
const WorkLimit = 1_000_000

// ScratchLimit bounds, in bytes, the values handed to one filter call
// (nunjitsu's scratchBytes), so a filter is never given a value built up to
// take the memory.
const ScratchLimit = MaxRenderedLength

// MaxStringLength bounds, in UTF-16 code units, every string a render builds
// on the way (guards.js in the js folder, which must hold the same number):
// replace, join and concatenation refuse to build a longer one, so a chain
// that multiplies its text stops before it takes the memory.
const MaxStringLength = MaxRenderedLength

// DefaultTimeBudget is the wall time one render may take before the runtime
// is interrupted: far above what a template needs (milliseconds, even on a
// loaded machine), and a stop for anything the work limits do not count.
const DefaultTimeBudget = 10 * time.Second

// ErrNoBundle is the error of every render when the binary was built without
// the engine's bundle (a fresh clone built with go build alone).
var ErrNoBundle = errors.New("the template engine's bundle (workflows/scaffolder/nunjucks/bundle/nunjucks.js) was not built into this binary: build with `make build`, which runs npm ci and esbuild first (or `make bundle`, then go build)")

// Options configures a renderer as fetch:template's inputs do.
type Options struct {
	// CookiecutterCompat reads {{ }} variable tags instead of ${{ }} (the
	// values are then named cookiecutter, not values).
	CookiecutterCompat bool `json:"cookiecutterCompat,omitempty"`
	// TrimBlocks removes the first newline after a block tag.
	TrimBlocks bool `json:"trimBlocks,omitempty"`
	// LstripBlocks removes the white space before a block tag on its line.
	LstripBlocks bool `json:"lstripBlocks,omitempty"`
}

// Error kinds: what failed in a render.
const (
	// KindSyntax is a template that does not parse.
	KindSyntax = "syntax_error"
	// KindEvaluation is an expression that fails while rendering (a filter
	// that throws, a call of what is not a function).
	KindEvaluation = "evaluation_error"
	// KindCapability is a filter or global that is not allowed or fails.
	KindCapability = "capability_error"
	// KindLimit is a render that passed one of its limits (output, work,
	// scratch, nesting, source); Error.Limit names it.
	KindLimit = "limit"
	// KindTimeout is a render that passed its time budget.
	KindTimeout = "timeout"
	// KindInput is a value the engine refuses as input.
	KindInput = "input"
)

// Error is a render that failed: its kind, the limit passed (for KindLimit),
// the line and column in the template when known, and the message.
type Error struct {
	Kind    string
	Limit   string
	Line    int
	Column  int
	Message string
}

// Error returns "L:C: message", or the message alone without a position.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
	}
	return e.Message
}

// Budget reports whether the render was stopped by its limits or its time
// budget, rather than by the template's own fault.
func (e *Error) Budget() bool { return e.Kind == KindLimit || e.Kind == KindTimeout }

// Engine renders templates with a pool of goja runtimes, each holding the
// engine's bundle. An Engine is safe for concurrent use: each Session holds
// one runtime until it is closed.
type Engine struct {
	prog *goja.Program
	pool chan *vm
	// TimeBudget is the wall time of one render (DefaultTimeBudget when 0).
	TimeBudget time.Duration
}

// vm is one runtime with the bundle's entry points.
type vm struct {
	rt                           *goja.Runtime
	prepare, render, renderValue goja.Callable
}

// New compiles the bundle and returns an engine that keeps up to poolSize
// idle runtimes (at least 1). It returns ErrNoBundle when the binary holds no
// bundle.
func New(poolSize int) (*Engine, error) {
	src, err := fs.ReadFile(bundleFS, bundlePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBundle
	}
	if err != nil {
		return nil, err
	}
	prog, err := goja.Compile("nunjucks.js", string(src), true)
	if err != nil {
		return nil, fmt.Errorf("compiling the template engine's bundle: %w", err)
	}
	if poolSize < 1 {
		poolSize = 1
	}
	return &Engine{prog: prog, pool: make(chan *vm, poolSize)}, nil
}

var (
	defaultOnce sync.Once
	defaultEng  *Engine
	defaultErr  error
)

// Default returns the process's shared engine, made on first use with a
// pool of 8 runtimes.
func Default() (*Engine, error) {
	defaultOnce.Do(func() { defaultEng, defaultErr = New(8) })
	return defaultEng, defaultErr
}

// load starts a runtime and runs the bundle in it.
func (e *Engine) load() (*vm, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(4096)
	// Buffer.byteLength (nunjitsu counts the bytes handed to filters) is
	// native: a loop over a long string in JavaScript is slow in goja.
	if err := rt.Set("__backlotByteLength", func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(len(call.Argument(0).String()))
	}); err != nil {
		return nil, err
	}
	// The replace guard counts a needle natively, for the same reason.
	if err := rt.Set("__backlotCount", func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(strings.Count(call.Argument(0).String(), call.Argument(1).String()))
	}); err != nil {
		return nil, err
	}
	if _, err := rt.RunProgram(e.prog); err != nil {
		return nil, fmt.Errorf("loading the template engine: %w", err)
	}
	api := rt.Get("backlotTemplates")
	if api == nil || goja.IsUndefined(api) {
		return nil, errors.New("loading the template engine: the bundle defines no backlotTemplates")
	}
	obj := api.ToObject(rt)
	v := &vm{rt: rt}
	for name, dst := range map[string]*goja.Callable{"prepare": &v.prepare, "render": &v.render, "renderValue": &v.renderValue} {
		fn, ok := goja.AssertFunction(obj.Get(name))
		if !ok {
			return nil, fmt.Errorf("loading the template engine: backlotTemplates.%s is not a function", name)
		}
		*dst = fn
	}
	return v, nil
}

// Warm loads runtimes into the pool until it holds n (at most its size),
// so the first renders, which may run in workflow code that must not block,
// find a runtime ready.
func (e *Engine) Warm(n int) error {
	for i := 0; i < n && len(e.pool) < cap(e.pool); i++ {
		v, err := e.load()
		if err != nil {
			return err
		}
		e.put(v)
	}
	return nil
}

// get takes an idle runtime or loads one.
func (e *Engine) get() (*vm, error) {
	select {
	case v := <-e.pool:
		return v, nil
	default:
		return e.load()
	}
}

// put keeps a runtime for the next session, or drops it when the pool is full.
func (e *Engine) put(v *vm) {
	select {
	case e.pool <- v:
	default:
	}
}

// Session is a renderer with its context prepared once, for many renders
// (a skeleton's files, a step's inputs). A Session is not safe for
// concurrent use; Close returns its runtime to the pool.
type Session struct {
	e   *Engine
	v   *vm
	bad bool
}

// limitsJSON are the limits of every render, as nunjitsu reads them.
var limitsJSON = func() string {
	b, _ := json.Marshal(map[string]any{
		"sourceCodeUnits": MaxTemplateLength,
		"workUnits":       WorkLimit,
		"outputCodeUnits": MaxRenderedLength,
		"scratchBytes":    ScratchLimit,
	})
	return string(b)
}()

// Session prepares a renderer with opts over context (JSON-like values: the
// variables a template reads, such as parameters, steps and values).
func (e *Engine) Session(opts Options, context map[string]any) (*Session, error) {
	v, err := e.get()
	if err != nil {
		return nil, err
	}
	if context == nil {
		context = map[string]any{}
	}
	ctx, err := json.Marshal(context)
	if err != nil {
		e.put(v)
		return nil, &Error{Kind: KindInput, Message: "the template's variables are not JSON: " + err.Error()}
	}
	o, _ := json.Marshal(opts)
	// The random filter draws from a source seeded the same way each time,
	// so a template renders alike on a workflow's replay.
	v.rt.SetRandSource(rand.New(rand.NewSource(1)).Float64)
	s := &Session{e: e, v: v}
	res, err := s.call(v.prepare, string(o), string(ctx))
	if err != nil {
		s.Close()
		return nil, err
	}
	if res != "" {
		s.Close()
		return nil, decodeError(res)
	}
	return s, nil
}

// call runs fn under the time budget.
func (s *Session) call(fn goja.Callable, args ...string) (string, error) {
	budget := s.e.TimeBudget
	if budget <= 0 {
		budget = DefaultTimeBudget
	}
	vals := make([]goja.Value, len(args))
	for i, a := range args {
		vals[i] = s.v.rt.ToValue(a)
	}
	rt := s.v.rt
	fired := make(chan struct{})
	timer := time.AfterFunc(budget, func() { rt.Interrupt("time budget"); close(fired) })
	out, err := fn(goja.Undefined(), vals...)
	if !timer.Stop() {
		// The interrupt is on its way or made: let it land before clearing
		// it, so it cannot stop the runtime's next call.
		<-fired
	}
	rt.ClearInterrupt()
	if err != nil {
		// A runtime stopped halfway is not reused.
		s.bad = true
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			return "", &Error{Kind: KindTimeout, Message: fmt.Sprintf("the template took longer than its time budget of %s", budget)}
		}
		var se *goja.StackOverflowError
		if errors.As(err, &se) {
			return "", &Error{Kind: KindLimit, Limit: "nestingDepth", Message: "the template nests too deeply"}
		}
		return "", fmt.Errorf("the template engine failed: %w", err)
	}
	return out.String(), nil
}

// result is what render and renderValue answer.
type result struct {
	V     json.RawMessage `json:"v"`
	Error *struct {
		Kind       string  `json:"kind"`
		Message    string  `json:"message"`
		Limit      string  `json:"limit"`
		Line       int     `json:"line"`
		Column     int     `json:"column"`
		Configured float64 `json:"configured"`
	} `json:"error"`
}

// decodeError reads an error answer.
func decodeError(res string) error {
	var r result
	if err := json.Unmarshal([]byte(res), &r); err != nil || r.Error == nil {
		return fmt.Errorf("the template engine answered %.200q", res)
	}
	return toError(r)
}

// toError turns the engine's error into an *Error, naming Backlot's
// constant for the limits it sets.
func toError(r result) *Error {
	e := &Error{Kind: r.Error.Kind, Limit: r.Error.Limit, Line: r.Error.Line, Column: r.Error.Column, Message: r.Error.Message}
	switch e.Limit {
	case "outputCodeUnits":
		e.Message = fmt.Sprintf("the rendered value would be longer than the limit of %d (MaxRenderedLength)", MaxRenderedLength)
	case "sourceCodeUnits":
		e.Message = fmt.Sprintf("the template is longer than the limit of %d (MaxTemplateLength)", MaxTemplateLength)
	case "workUnits":
		e.Message = fmt.Sprintf("the template does more work than the limit of %d units (WorkLimit)", WorkLimit)
	case "scratchBytes":
		e.Message = fmt.Sprintf("a filter was handed more than the limit of %d bytes (ScratchLimit)", ScratchLimit)
	}
	if strings.Contains(e.Message, "(MaxStringLength)") {
		e.Kind, e.Limit = KindLimit, "MaxStringLength"
	}
	if e.Line > 0 {
		// nunjitsu's message starts with its own position; keep one.
		if _, rest, ok := strings.Cut(e.Message, fmt.Sprintf("at line %d, column %d: ", e.Line, e.Column)); ok {
			e.Message = rest
		}
	}
	return e
}

// Render renders src as text.
func (s *Session) Render(src string) (string, error) {
	res, err := s.do(s.v.render, src)
	if err != nil {
		return "", err
	}
	var out string
	if err := json.Unmarshal(res.V, &out); err != nil {
		return "", fmt.Errorf("the template engine answered a %T for text: %w", res.V, err)
	}
	if len(out) > MaxRenderedLength {
		return "", &Error{Kind: KindLimit, Limit: "outputCodeUnits", Message: fmt.Sprintf("the rendered text is %d bytes, over the limit of %d (MaxRenderedLength)", len(out), MaxRenderedLength)}
	}
	return out, nil
}

// RenderValue renders src keeping a sole expression's value: a template
// that is one ${{ }} and nothing else yields the expression's value as
// JSON-like Go values (string, int64, float64, bool, nil, []any,
// map[string]any); any other template yields its text. defined is false
// when the value is undefined (an undefined name, alone).
func (s *Session) RenderValue(src string) (v any, defined bool, err error) {
	res, err := s.do(s.v.renderValue, src)
	if err != nil {
		return nil, false, err
	}
	if res.V == nil {
		return nil, false, nil
	}
	if len(res.V) > MaxRenderedLength+2 {
		return nil, false, &Error{Kind: KindLimit, Limit: "outputCodeUnits", Message: fmt.Sprintf("the rendered value is %d bytes of JSON, over the limit of %d (MaxRenderedLength)", len(res.V), MaxRenderedLength)}
	}
	v, err = Decode(res.V)
	return v, true, err
}

// do runs one render and reads its answer.
func (s *Session) do(fn goja.Callable, src string) (result, error) {
	var r result
	if len(src) > 4*MaxTemplateLength {
		return r, &Error{Kind: KindLimit, Limit: "sourceCodeUnits", Message: fmt.Sprintf("the template is %d bytes, over the limit of %d (MaxTemplateLength)", len(src), MaxTemplateLength)}
	}
	out, err := s.call(fn, src, limitsJSON)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("the template engine answered %.200q: %w", out, err)
	}
	if r.Error != nil {
		return r, toError(r)
	}
	return r, nil
}

// Close returns the session's runtime to the pool (or drops it after a
// render that was interrupted). Close is idempotent.
func (s *Session) Close() {
	if s.v == nil {
		return
	}
	if !s.bad {
		s.e.put(s.v)
	}
	s.v = nil
}

// Decode reads JSON into JSON-like Go values, with whole numbers as int64
// and others as float64 (as the policies' expressions read it).
func Decode(b []byte) (any, error) {
	return policies.DecodeJSON(b)
}
