package policies

import (
	"errors"
	"strings"
	"testing"
)

// policyWith makes a policy of the checks, with those of bronze, silver and
// gold that the checks use as its levels.
func policyWith(name string, checks ...Check) *Policy {
	var levels []string
	for _, l := range []string{"bronze", "silver", "gold"} {
		for _, c := range checks {
			if c.Level == l {
				levels = append(levels, l)
				break
			}
		}
	}
	if len(levels) == 0 {
		levels = []string{"bronze"}
	}
	return &Policy{APIVersion: PolicyAPIVersion, Kind: PolicyKind, Metadata: PolicyMetadata{Name: name},
		Spec: PolicySpec{Selector: `entity.kind == "Component"`, Levels: levels, Checks: checks}}
}

func TestCompileErrorsNamePolicyCheckAndPosition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rule string
		want       string
	}{
		{"syntax", `has(entity.spec.owner) &&`, "policy p: check c: rule 1:26: Syntax error"},
		{"syntax on line 2", "has(entity.spec.owner) &&\n  entity.spec.(owner)", "policy p: check c: rule 2:"},
		{"type", `relations.size() == "three"`, "policy p: check c: rule 1:18: found no matching overload for '_==_'"},
		{"undeclared", `owner == "a"`, "policy p: check c: rule 1:1: undeclared reference to 'owner'"},
		{"not a bool", `entity.spec.owner`, "policy p: check c: rule 1:1: yields dyn, want bool"},
		{"not a bool either", `relations.size()`, "yields int, want bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compile(policyWith("p", Check{ID: "c", Level: "bronze", Rule: tc.rule}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Policy != "p" || ce.Check != "c" {
				t.Fatalf("not a *CompileError naming the policy and check: %#v", err)
			}
			if c == nil || len(c.Errors()) == 0 {
				t.Fatal("no *Compiled with the errors recorded")
			}
		})
	}
}

func TestABrokenCheckDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	c, err := Compile(policyWith("p",
		Check{ID: "owner", Level: "bronze", Rule: `has(entity.spec.owner)`},
		Check{ID: "broken", Level: "silver", Rule: `entity.spec.(`},
		Check{ID: "system", Level: "gold", Rule: `has(entity.spec.system)`},
	))
	if err == nil || len(c.Errors()) != 1 || c.Errors()[0].Check != "broken" {
		t.Fatalf("errors %v", err)
	}
	r := c.Evaluate(Input{Entity: map[string]any{"kind": "Component", "spec": map[string]any{"owner": "a", "system": "s"}}})
	if !r.Applies || r.Level != "bronze" {
		t.Fatalf("result %+v", r)
	}
	if !r.Checks[0].Passed || r.Checks[1].Passed || !strings.Contains(r.Checks[1].Error, "check broken: rule 1:") || !r.Checks[2].Passed {
		t.Fatalf("checks %+v", r.Checks)
	}
}

func TestABrokenSelectorMakesThePolicyNotApply(t *testing.T) {
	t.Parallel()
	p := policyWith("p", Check{ID: "owner", Level: "bronze", Rule: `has(entity.spec.owner)`})
	p.Spec.Selector = `entity.kind`
	c, err := Compile(p)
	if err == nil || !strings.Contains(err.Error(), "policy p: selector 1:1: yields dyn") {
		t.Fatalf("error %v", err)
	}
	if r := c.Evaluate(Input{Entity: map[string]any{"kind": "Component"}}); r.Applies || !strings.Contains(r.Error, "selector") {
		t.Fatalf("result %+v", r)
	}
}

func TestCompileRejectsAnInvalidPolicy(t *testing.T) {
	t.Parallel()
	c, err := Compile(policyWith("p", Check{ID: "a", Level: "platinum", Rule: "true"}))
	if c != nil || err == nil || !strings.Contains(err.Error(), "check a: spec.checks[0].level") {
		t.Fatalf("compiled %v %v", c, err)
	}
}

func TestProgramsAreCompiledOnce(t *testing.T) {
	t.Parallel()
	rule := `has(entity.spec.owner) && entity.spec.owner.startsWith("team-cache")`
	a, _ := Compile(policyWith("cached", Check{ID: "c", Level: "bronze", Rule: rule}))
	b, _ := Compile(policyWith("cached", Check{ID: "c", Level: "bronze", Rule: rule}))
	if a.checks[0].expr != b.checks[0].expr || a.selector != b.selector {
		t.Fatal("the same policy, check and rule were compiled twice")
	}
	other, _ := Compile(policyWith("cached", Check{ID: "c", Level: "bronze", Rule: rule + " && true"}))
	if other.checks[0].expr == a.checks[0].expr {
		t.Fatal("an edited rule was served from the cache")
	}
}
