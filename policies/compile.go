package policies

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// CompileError is a selector or a check rule that did not compile: a syntax
// error, a type error, or a result that is not a bool. Line and Column
// (1-based) locate the problem in the expression; they are 0 when CEL gave no
// position.
type CompileError struct {
	Policy string
	// Check is the check's id, or "" for the selector.
	Check string
	// Campaign is the campaign's id when the expression is a campaign's selector.
	Campaign string
	Line     int
	Column   int
	Message  string
}

// Error returns "policy P: check C: rule L:C: message" (or "selector L:C:
// message").
func (e *CompileError) Error() string {
	where := "selector"
	if e.Campaign != "" {
		where = "campaign " + e.Campaign + ": selector"
	}
	if e.Check != "" {
		where = "check " + e.Check + ": rule"
	}
	if e.Line > 0 {
		where += fmt.Sprintf(" %d:%d", e.Line, e.Column)
	}
	return fmt.Sprintf("policy %s: %s: %s", e.Policy, where, e.Message)
}

// compiledExpr is one compiled expression or why it did not compile.
type compiledExpr struct {
	prg   cel.Program
	info  *celast.SourceInfo // locates the nodes of runtime errors
	facts *factUse           // the sources of facts it reads
	errs  []*CompileError
	// untracked is set when the program runs without the runtime cost
	// tracker, its cost bounded below CheckCostLimit by the static estimate.
	untracked bool
	// free, when set, is the program without the tracker that inputs within
	// sizeTiers[freeTier] and the tiers below it run (boundedTier): on them,
	// the estimate bounds the cost below CheckCostLimit.
	free     cel.Program
	freeTier int
}

type cacheKey struct{ policy, check, expr string }

// maxCachedPrograms bounds the program cache; past it the cache starts over,
// which only costs recompiling the policies in use.
const maxCachedPrograms = 10_000

var (
	programsMu sync.Mutex
	programs   = map[cacheKey]*compiledExpr{}
)

// compileExpr compiles one expression, or returns the program cached for the
// same policy, check and text. Compile errors are cached too.
func compileExpr(policy, check, expr string) *compiledExpr {
	key := cacheKey{policy, check, expr}
	programsMu.Lock()
	c, ok := programs[key]
	programsMu.Unlock()
	if ok {
		return c
	}
	c = compileUncached(policy, check, expr)
	programsMu.Lock()
	if len(programs) >= maxCachedPrograms {
		programs = map[cacheKey]*compiledExpr{}
	}
	programs[key] = c
	programsMu.Unlock()
	return c
}

func compileUncached(policy, check, expr string) *compiledExpr {
	fail := func(line, col int, format string, args ...any) *compiledExpr {
		return &compiledExpr{errs: []*CompileError{{Policy: policy, Check: check, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}}}
	}
	env, err := policyEnv()
	if err != nil {
		return fail(0, 0, "environment: %v", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		c := &compiledExpr{}
		for _, e := range iss.Errors() {
			line, col := 0, 0
			if e.Location != nil && e.Location.Line() > 0 {
				line, col = e.Location.Line(), e.Location.Column()+1
			}
			c.errs = append(c.errs, &CompileError{Policy: policy, Check: check, Line: line, Column: col, Message: e.Message})
		}
		if len(c.errs) == 0 {
			return fail(0, 0, "%v", iss.Err())
		}
		return c
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return fail(1, 1, "yields %s, want bool (compare a field of unknown type: entity.spec.flag == true)", ast.OutputType())
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	bounded := staticallyBounded(env, ast)
	if !bounded {
		opts = append(opts, cel.CostLimit(CheckCostLimit))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return fail(0, 0, "%v", err)
	}
	c := &compiledExpr{prg: prg, info: ast.NativeRep().SourceInfo(), facts: factsRead(ast), untracked: bounded, freeTier: -1}
	if !bounded {
		if t := boundedTier(env, ast); t >= 0 {
			if free, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize)); err == nil {
				c.free, c.freeTier = free, t
			}
		}
	}
	return c
}

// staticallyBounded reports whether CEL's cost estimate proves that no
// evaluation of the expression can cost more than CheckCostLimit, whatever its
// input: then the runtime cost tracker, which watches every node of every
// evaluation (about 40% of the time of a simple rule), has nothing to stop.
// The estimate's Max is an upper bound of what the tracker counts, under the
// same cost model; an expression whose cost grows with its input (a
// comprehension, a regular expression, a string search) has no finite bound
// here and keeps the tracker and the limit.
func staticallyBounded(env *cel.Env, ast *cel.Ast) bool {
	est, err := env.EstimateCost(ast, unknownSizes{})
	return err == nil && est.Max <= CheckCostLimit
}

// unknownSizes is the cost estimator of staticallyBounded: it knows the size
// of no variable and no function's cost beyond CEL's own model, so every
// size-dependent cost is estimated as unbounded.
type unknownSizes struct{}

// EstimateSize returns nil: no size is known.
func (unknownSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }

// EstimateCallCost returns nil: CEL's model prices every call.
func (unknownSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// Compiled is a policy ready to evaluate: its selector and each check's rule
// compiled once (and cached across Compile calls by policy, check and text).
// A check whose rule did not compile is kept, and reports an error each time
// it is evaluated. A Compiled is safe for concurrent use.
type Compiled struct {
	policy    *Policy
	selector  *compiledExpr
	campaigns []compiledCampaign
	checks    []compiledCheck
	levels    map[string]int
	errs      []*CompileError
	facts     factUse // the sources of facts its checks and campaigns read
}

type compiledCampaign struct {
	Campaign
	expr *compiledExpr // nil when the campaign has no selector
}

type compiledCheck struct {
	Check
	level int
	expr  *compiledExpr
	err   string // the compile errors, joined, when the rule did not compile
}

// Compile validates a policy and compiles its selector and rules. A policy
// that does not validate yields nil and the validation errors. Otherwise it
// always yields a *Compiled, and with it the compile errors joined (each a
// *CompileError naming the policy, the check and the position); a broken
// check fails when evaluated and does not stop the others.
func Compile(p *Policy) (*Compiled, error) {
	if err := p.Validate(""); err != nil {
		return nil, err
	}
	c := &Compiled{policy: p, levels: map[string]int{}}
	for i, l := range p.Spec.Levels {
		c.levels[l] = i
	}
	c.selector = compileExpr(p.Metadata.Name, "", p.Spec.Selector)
	c.errs = append(c.errs, c.selector.errs...)
	for _, ch := range p.Spec.Checks {
		e := compileExpr(p.Metadata.Name, ch.ID, ch.Rule)
		cc := compiledCheck{Check: ch, level: c.levels[ch.Level], expr: e}
		if len(e.errs) > 0 {
			msgs := make([]string, len(e.errs))
			for i, ce := range e.errs {
				msgs[i] = ce.Error()
			}
			cc.err = strings.Join(msgs, "; ")
			c.errs = append(c.errs, e.errs...)
		}
		if e.facts != nil {
			c.facts.merge(e.facts)
		}
		c.checks = append(c.checks, cc)
	}
	for _, cp := range p.Spec.Campaigns {
		cc := compiledCampaign{Campaign: cp}
		if strings.TrimSpace(cp.Selector) != "" {
			cc.expr = compileExpr(p.Metadata.Name, "campaign:"+cp.ID, cp.Selector)
			for _, ce := range cc.expr.errs {
				e := *ce
				e.Check, e.Campaign = "", cp.ID
				c.errs = append(c.errs, &e)
			}
			if cc.expr.facts != nil {
				c.facts.merge(cc.expr.facts)
			}
		}
		c.campaigns = append(c.campaigns, cc)
	}
	return c, c.Err()
}

// Policy returns the policy compiled.
func (c *Compiled) Policy() *Policy { return c.policy }

// Errors returns the compile errors, in the order of the document (the
// selector's first).
func (c *Compiled) Errors() []*CompileError { return c.errs }

// Err returns the compile errors joined, or nil.
func (c *Compiled) Err() error {
	errs := make([]error, len(c.errs))
	for i, e := range c.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
