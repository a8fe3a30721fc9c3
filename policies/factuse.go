package policies

import (
	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// factUse is which sources of facts an expression reads: the names it selects
// on facts (facts.ci, facts.?ci, facts["ci"], has(facts.ci)), or all of them
// when it uses facts in any other way (facts.exists(s, …), size(facts),
// facts[name]).
type factUse struct {
	all     bool
	sources map[string]bool
}

func (u *factUse) reads(source string) bool { return u.all || u.sources[source] }

func (u *factUse) merge(v *factUse) {
	if v.all {
		u.all = true
	}
	for s := range v.sources {
		if u.sources == nil {
			u.sources = map[string]bool{}
		}
		u.sources[s] = true
	}
}

// factsRead finds the sources of facts a checked expression reads.
func factsRead(a *cel.Ast) *factUse {
	u := &factUse{sources: map[string]bool{}}
	root := a.NativeRep().Expr()
	// Every use of the facts variable must be the operand of a selection by
	// a constant name; count both, and any other use reads everything.
	uses, named := 0, 0
	celast.PreOrderVisit(root, celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.IdentKind:
			if e.AsIdent() == "facts" {
				uses++
			}
		case celast.SelectKind:
			s := e.AsSelect()
			if isFacts(s.Operand()) {
				u.sources[s.FieldName()] = true
				named++
			}
		case celast.CallKind:
			c := e.AsCall()
			switch c.FunctionName() {
			case operators.OptSelect, operators.Index, operators.OptIndex:
			default:
				return
			}
			args := c.Args()
			if len(args) != 2 || !isFacts(args[0]) || args[1].Kind() != celast.LiteralKind {
				return
			}
			if name, ok := args[1].AsLiteral().(types.String); ok {
				u.sources[string(name)] = true
				named++
			}
		}
	}))
	u.all = uses != named
	return u
}

func isFacts(e celast.Expr) bool { return e.Kind() == celast.IdentKind && e.AsIdent() == "facts" }

// ReadsFacts reports whether evaluating the policy's checks or campaign
// selectors may read the facts of source (facts.<source>), so facts no policy
// reads need not be collected. A rule that did not compile reads none.
func (c *Compiled) ReadsFacts(source string) bool { return c.facts.reads(source) }
