package permission

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// DecisionCostLimit bounds the work one evaluation of one rule's condition
// may do, in CEL cost units (about one per operation and per element a
// comprehension visits). The default policy's conditions cost under 50 with
// a few dozen groups and approvers; the limit leaves room for lists of a few
// thousand members while keeping a runaway condition (nested comprehensions
// over large lists) from costing a request more than a fraction of a
// millisecond.
const DecisionCostLimit = 20_000

// MaxConditionLength bounds the text of one rule's condition.
const MaxConditionLength = 4096

var (
	envOnce sync.Once
	env     *cel.Env
	envErr  error
)

// decisionEnv is the environment of rule conditions, built once:
//
//	principal.ref            string             the principal's ref ("" when anonymous)
//	principal.groups         list(string)       its groups
//	principal.claims         map(string, dyn)   its identity's claims
//	principal.authenticated  bool               whether anyone signed in
//	action                   string             the permission asked for
//	resource                 map(string, dyn)   the resource (see Resource)
//	params                   map(string, string) the policy's parameters
//
// Optional field selection (resource.?owner.orValue("")) is enabled.
func decisionEnv() (*cel.Env, error) {
	envOnce.Do(func() {
		env, envErr = cel.NewEnv(
			cel.Variable("principal.ref", cel.StringType),
			cel.Variable("principal.groups", cel.ListType(cel.StringType)),
			cel.Variable("principal.claims", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("principal.authenticated", cel.BoolType),
			cel.Variable("action", cel.StringType),
			cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("params", cel.MapType(cel.StringType, cel.StringType)),
			cel.OptionalTypes(),
		)
	})
	return env, envErr
}

// program is one compiled condition, or why it did not compile.
type program struct {
	prg cel.Program
	// errs are the compile errors, each with its 1-based position (0 when
	// CEL gave none); the Policy and Rule fields are empty here.
	errs []CompileError
}

// maxCachedPrograms bounds the program cache; past it the cache starts over,
// which only costs recompiling the conditions in use.
const maxCachedPrograms = 10_000

var (
	programsMu sync.Mutex
	programs   = map[string]*program{}
)

// compileCondition compiles a condition, or returns the program cached for
// the same text (the environment is the same for every policy). Compile
// errors are cached too.
func compileCondition(expr string) *program {
	programsMu.Lock()
	p, ok := programs[expr]
	programsMu.Unlock()
	if ok {
		return p
	}
	p = compileUncached(expr)
	programsMu.Lock()
	if len(programs) >= maxCachedPrograms {
		programs = map[string]*program{}
	}
	programs[expr] = p
	programsMu.Unlock()
	return p
}

func compileUncached(expr string) *program {
	fail := func(line, col int, format string, args ...any) *program {
		return &program{errs: []CompileError{{Line: line, Column: col, Message: fmt.Sprintf(format, args...)}}}
	}
	if len(expr) > MaxConditionLength {
		return fail(0, 0, "longer than %d characters", MaxConditionLength)
	}
	e, err := decisionEnv()
	if err != nil {
		return fail(0, 0, "environment: %v", err)
	}
	ast, iss := e.Compile(expr)
	if iss.Err() != nil {
		p := &program{}
		for _, ce := range iss.Errors() {
			line, col := 0, 0
			if ce.Location != nil && ce.Location.Line() > 0 {
				line, col = ce.Location.Line(), ce.Location.Column()+1
			}
			p.errs = append(p.errs, CompileError{Line: line, Column: col, Message: ce.Message})
		}
		if len(p.errs) == 0 {
			return fail(0, 0, "%v", iss.Err())
		}
		return p
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return fail(1, 1, "yields %s, want bool (compare a field of unknown type: resource.selfApproval == true)", ast.OutputType())
	}
	prg, err := e.Program(ast, cel.CostLimit(DecisionCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return fail(0, 0, "%v", err)
	}
	return &program{prg: prg}
}
