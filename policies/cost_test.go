package policies

import (
	"fmt"
	"testing"

	"github.com/google/cel-go/cel"

	"backlot.dev/backlot/internal/bench/gen"
)

func TestCostTrackedOnlyWhereTheEstimateIsUnbounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rule string
		tracked    bool
	}{
		{"comparison", `has(entity.spec.owner) && entity.spec.owner != ""`, false},
		{"in a literal list", `entity.?spec.?type.orValue("") in ["service", "website", "library"]`, false},
		{"facts", `facts.?ci.?coverage.orValue(0) >= 80`, false},
		{"time", `now - timestamp(facts.?ci.?lastBuild.orValue("1970-01-01T00:00:00Z")) < duration("720h")`, false},
		{"comprehension", `relations.exists(r, r.type == "ownedBy")`, true},
		{"nested comprehensions", `entity.spec.items.all(x, entity.spec.items.all(y, x + y >= 0))`, true},
		{"regular expression", `entity.metadata.name.matches("^[a-z0-9-]+$")`, true},
		{"string search", `entity.metadata.description.contains("runbook")`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := compileUncached("p", "c", tc.rule)
			if len(c.errs) > 0 {
				t.Fatal(c.errs[0])
			}
			if c.untracked == tc.tracked {
				t.Errorf("untracked = %v, want %v", c.untracked, !tc.tracked)
			}
		})
	}
}

// TestUntrackedProgramsAnswerAsTrackedOnes evaluates every rule of the bench
// policy with and without the cost tracker over inputs that reach every level
// and some errors: the answers and errors are the same.
func TestUntrackedProgramsAnswerAsTrackedOnes(t *testing.T) {
	t.Parallel()
	env, err := policyEnv()
	if err != nil {
		t.Fatal(err)
	}
	ins := benchInputs(300)
	// Inputs with missing fields and wrong types, so errors are compared too.
	ins = append(ins, Input{Entity: map[string]any{"kind": "Component", "metadata": map[string]any{"name": 7}}},
		Input{Entity: map[string]any{"kind": "Component", "spec": map[string]any{"owner": 1, "lifecycle": []any{}}},
			Facts: map[string]map[string]any{"ci": {"coverage": "high", "lastBuild": "yesterday"}}})
	untracked := 0
	for _, rule := range append(gen.PolicyRules, `entity.spec.owner == "team-1"`) {
		c := compileUncached("p", "c", rule)
		if len(c.errs) > 0 {
			t.Fatal(c.errs[0])
		}
		if c.untracked {
			untracked++
		}
		ast, iss := env.Compile(rule)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		prg, err := env.Program(ast, cel.CostLimit(CheckCostLimit), cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			t.Fatal(err)
		}
		tracked := &compiledExpr{prg: prg, info: c.info}
		for i, in := range ins {
			a := newActivation(in)
			got, gotErr := c.eval(a)
			want, wantErr := tracked.eval(a)
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("rule %s, input %d: %v (%v) without the tracker, %v (%v) with it", rule, i, got, gotErr, want, wantErr)
			}
		}
	}
	if untracked < 10 {
		t.Errorf("%d rules of the bench policy run untracked, want most of them", untracked)
	}
}
