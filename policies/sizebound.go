package policies

import (
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// inputSize bounds the values of an input: every list and map in it has at
// most items entries, and every string (map keys included) at most chars
// bytes (CEL counts code points, never more than bytes).
type inputSize struct{ items, chars int }

// sizeTiers are the input sizes a rule that needs the cost tracker (its cost
// grows with its input) is estimated under again at compile time. When CEL's
// estimate proves that, on inputs within a tier, the rule cannot cost more
// than CheckCostLimit, the rule also gets a program without the tracker,
// which the inputs within that tier run: the tracker could never stop them,
// so the answers are the same, and a catalog's entities are nearly all small.
// Larger inputs run the tracked program, under the limit, as before.
var sizeTiers = []inputSize{{8, 64}, {16, 128}, {32, 256}, {64, 512}, {128, 1024}}

// noTier is the tier of an input within none of sizeTiers.
const noTier = 1 << 30

// tierOf returns the index of the smallest tier that holds s, or noTier.
func tierOf(s inputSize) int {
	for i, t := range sizeTiers {
		if s.items <= t.items && s.chars <= t.chars {
			return i
		}
	}
	return noTier
}

// boundedTier returns the largest index of sizeTiers within which CEL's
// estimate keeps every evaluation of ast at or below CheckCostLimit, or -1.
func boundedTier(env *cel.Env, ast *cel.Ast) int {
	roots := inputRoots(ast.NativeRep().Expr())
	if roots == nil {
		return -1
	}
	best := -1
	for i, t := range sizeTiers {
		est, err := env.EstimateCost(ast, tierSizes{size: t, derived: roots})
		if err != nil || est.Max > CheckCostLimit {
			break
		}
		best = i
	}
	return best
}

// inputRoots returns the names whose identifiers in e stand for values of the
// input: the variables entity, relations and facts, and the iteration
// variables of comprehensions over such values. It returns nil when a
// comprehension's variable takes the name of a variable, which would make
// a name ambiguous: such an expression is not estimated by tier.
func inputRoots(e celast.Expr) map[string]bool {
	derived := map[string]bool{"entity": true, "relations": true, "facts": true}
	ok := true
	// Comprehensions are visited outer first, so an inner range may read an
	// outer iteration variable. A name used by several comprehensions is
	// derived only if every range it iterates is.
	seen := map[string]bool{}
	var visit func(e celast.Expr)
	visit = func(e celast.Expr) {
		if e == nil || !ok {
			return
		}
		switch e.Kind() {
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			vars := []string{c.IterVar(), c.AccuVar()}
			if c.HasIterVar2() {
				vars = append(vars, c.IterVar2())
			}
			for _, v := range vars {
				switch v {
				case "entity", "relations", "facts", "now":
					ok = false
					return
				}
			}
			from := inputDerived(c.IterRange(), derived, sizeTiers[0])
			for _, v := range vars[:1] {
				derived[v] = from && (!seen[v] || derived[v])
				seen[v] = true
			}
			if c.HasIterVar2() {
				v := c.IterVar2()
				derived[v] = from && (!seen[v] || derived[v])
				seen[v] = true
			}
			// An accumulator holds what the comprehension builds.
			derived[c.AccuVar()], seen[c.AccuVar()] = false, true
			visit(c.IterRange())
			visit(c.AccuInit())
			visit(c.LoopCondition())
			visit(c.LoopStep())
			visit(c.Result())
		case celast.SelectKind:
			visit(e.AsSelect().Operand())
		case celast.CallKind:
			call := e.AsCall()
			if call.IsMemberFunction() {
				visit(call.Target())
			}
			for _, a := range call.Args() {
				visit(a)
			}
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				visit(el)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				me := en.AsMapEntry()
				visit(me.Key())
				visit(me.Value())
			}
		}
	}
	visit(e)
	if !ok {
		return nil
	}
	return derived
}

// inputDerived reports whether the value of e is always a value of the input
// (one of its variables, or a value anywhere within one), or a literal within
// t: then its size is bounded as the input's are. The value of an optional
// of such a value counts as the value.
func inputDerived(e celast.Expr, derived map[string]bool, t inputSize) bool {
	switch e.Kind() {
	case celast.IdentKind:
		return derived[e.AsIdent()]
	case celast.SelectKind:
		s := e.AsSelect()
		return !s.IsTestOnly() && inputDerived(s.Operand(), derived, t)
	case celast.CallKind:
		call := e.AsCall()
		args := call.Args()
		if call.IsMemberFunction() {
			switch call.FunctionName() {
			case "orValue":
				return len(args) == 1 && inputDerived(call.Target(), derived, t) &&
					(inputDerived(args[0], derived, t) || smallLiteral(args[0], t))
			case "value":
				return len(args) == 0 && inputDerived(call.Target(), derived, t)
			}
			return false
		}
		switch call.FunctionName() {
		case "_[_]", "_[?_]", "_?._":
			return len(args) == 2 && inputDerived(args[0], derived, t)
		}
	}
	return false
}

// smallLiteral reports whether e is a literal within t: a scalar, a string of
// at most t.chars bytes, or an empty list or map.
func smallLiteral(e celast.Expr, t inputSize) bool {
	switch e.Kind() {
	case celast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.String:
			return len(v) <= t.chars
		case types.Bytes:
			return len(v) <= t.chars
		}
		return true
	case celast.ListKind:
		return len(e.AsList().Elements()) == 0
	case celast.MapKind:
		return e.AsMap().Size() == 0
	}
	return false
}

// tierSizes is the estimator of boundedTier: a value of the input (an
// identifier of derived, or a value within one) has at most the tier's
// sizes; nothing else is known, so CEL prices the rest as it would.
type tierSizes struct {
	size    inputSize
	derived map[string]bool
}

// EstimateSize bounds the size of an input's value by the tier: items for a
// list or map, chars for a string, the larger of the two for a value of
// unknown type.
func (s tierSizes) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	if !inputDerived(n.Expr(), s.derived, s.size) {
		return nil
	}
	var max int
	switch n.Type().Kind() {
	case types.StringKind, types.BytesKind:
		max = s.size.chars
	case types.ListKind, types.MapKind:
		max = s.size.items
	case types.DynKind, types.AnyKind, types.TypeParamKind:
		max = s.size.items
		if s.size.chars > max {
			max = s.size.chars
		}
	default:
		return nil
	}
	return &checker.SizeEstimate{Min: 0, Max: uint64(max)}
}

// EstimateCallCost returns nil: CEL's model prices every call.
func (tierSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// sizeOf returns the sizes of an activation's input: the most entries of a
// list or map, and the longest string (or map key), anywhere in the entity,
// its relations and its facts. A value of a type the walk does not know
// makes the input too large for every tier.
func (a *activation) sizeOf() inputSize {
	var s inputSize
	var walk func(v any) bool
	str := func(n int) {
		if n > s.chars {
			s.chars = n
		}
	}
	items := func(n int) {
		if n > s.items {
			s.items = n
		}
	}
	walk = func(v any) bool {
		switch x := v.(type) {
		case nil, bool, float64, int, int64, int32, uint64, float32:
		case string:
			str(len(x))
		case []byte:
			str(len(x))
		case map[string]any:
			items(len(x))
			for k, e := range x {
				str(len(k))
				if !walk(e) {
					return false
				}
			}
		case []any:
			items(len(x))
			for _, e := range x {
				if !walk(e) {
					return false
				}
			}
		case map[string]string:
			items(len(x))
			for k, e := range x {
				str(len(k))
				str(len(e))
			}
		case []string:
			items(len(x))
			for _, e := range x {
				str(len(e))
			}
		default:
			return false
		}
		return true
	}
	if !walk(a.entity) || !walk(a.relations) || !walk(a.facts) {
		return inputSize{noTier, noTier}
	}
	// The activation's maps themselves: entity is walked above; relations
	// and facts are a list and a map of the input's.
	return s
}
