package policies

import (
	"strings"
	"testing"
	"time"
)

func TestEvaluateLevels(t *testing.T) {
	t.Parallel()
	c, err := Compile(policyWith("p",
		Check{ID: "owner", Level: "bronze", Rule: `has(entity.spec.owner)`},
		Check{ID: "system", Level: "silver", Rule: `has(entity.spec.system)`},
		Check{ID: "coverage", Level: "gold", Rule: `"ci" in facts && facts.ci.coverage >= 80`},
		Check{ID: "no-deprecated", Level: "gold", Rule: `relations.all(r, r.type != "dependsOn" || !r.targetRef.endsWith("/legacy"))`},
	))
	if err != nil {
		t.Fatal(err)
	}
	spec := func(kv ...string) map[string]any {
		s := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			s[kv[i]] = kv[i+1]
		}
		return map[string]any{"kind": "Component", "spec": s}
	}
	for _, tc := range []struct {
		name    string
		in      Input
		applies bool
		level   string
		failing []string
	}{
		{"not selected", Input{Entity: map[string]any{"kind": "API"}}, false, "", nil},
		{"nothing", Input{Entity: spec()}, true, "", []string{"owner", "system", "coverage"}},
		{"bronze", Input{Entity: spec("owner", "a")}, true, "bronze", []string{"system", "coverage"}},
		{"a gold check does not make silver", Input{Entity: spec("owner", "a"), Facts: map[string]map[string]any{"ci": {"coverage": 90}}}, true, "bronze", []string{"system"}},
		{"silver", Input{Entity: spec("owner", "a", "system", "s"), Facts: map[string]map[string]any{"ci": {"coverage": 79.5}}}, true, "silver", []string{"coverage"}},
		{"gold", Input{Entity: spec("owner", "a", "system", "s"), Facts: map[string]map[string]any{"ci": {"coverage": 80}},
			Relations: []Relation{{Type: "ownedBy", TargetRef: "group:default/a"}, {Type: "dependsOn", TargetRef: "component:default/kit"}}}, true, "gold", nil},
		{"a deprecated dependency", Input{Entity: spec("owner", "a", "system", "s"), Facts: map[string]map[string]any{"ci": {"coverage": 80.0}},
			Relations: []Relation{{Type: "dependsOn", TargetRef: "component:default/legacy"}}}, true, "silver", []string{"no-deprecated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.Evaluate(tc.in)
			if r.Applies != tc.applies || r.Level != tc.level || r.Error != "" {
				t.Fatalf("result %+v, want applies %v level %q", r, tc.applies, tc.level)
			}
			var failing []string
			for _, cr := range r.Checks {
				if !cr.Passed {
					failing = append(failing, cr.ID)
				}
			}
			if strings.Join(failing, ",") != strings.Join(tc.failing, ",") {
				t.Fatalf("failing %v, want %v", failing, tc.failing)
			}
		})
	}
}

func TestRuntimeErrorsFailTheCheckAndNameIt(t *testing.T) {
	t.Parallel()
	c, err := Compile(policyWith("p",
		Check{ID: "missing", Level: "bronze", Rule: `entity.spec.lifecycle == "production"`},
		Check{ID: "costly", Level: "bronze", Rule: `entity.spec.items.all(x, entity.spec.items.all(y, entity.spec.items.all(z, x + y + z >= 0)))`},
		Check{ID: "fine", Level: "bronze", Rule: `true`},
		Check{ID: "typed", Level: "bronze", Rule: `entity.spec.owner + 1 == 2`},
	))
	if err != nil {
		t.Fatal(err)
	}
	items := make([]any, 200)
	for i := range items {
		items[i] = i
	}
	r := c.Evaluate(Input{Entity: map[string]any{"kind": "Component", "spec": map[string]any{"items": items, "owner": "team-a"}}})
	if r.Level != "" || r.Checks[0].Passed || r.Checks[1].Passed || !r.Checks[2].Passed {
		t.Fatalf("result %+v", r)
	}
	// Each error names the policy, the check and the line and column in the rule.
	if e := r.Checks[0].Error; e != "policy p: check missing: rule 1:12: no such key: lifecycle" {
		t.Errorf("missing field: %q", e)
	}
	if e := r.Checks[1].Error; !strings.HasPrefix(e, "policy p: check costly: rule 1:") || !strings.Contains(e, "cost limit exceeded") {
		t.Errorf("cost: %q", e)
	}
	if e := r.Checks[3].Error; e != "policy p: check typed: rule 1:19: no such overload" {
		t.Errorf("type: %q", e)
	}
}

func TestEvaluateIsDeterministicInNow(t *testing.T) {
	t.Parallel()
	c, err := Compile(policyWith("p", Check{ID: "fresh", Level: "bronze",
		Rule: `now - timestamp(facts.ci.lastBuild) < duration("168h")`}))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Entity: map[string]any{"kind": "Component"}, Facts: map[string]map[string]any{"ci": {"lastBuild": "2026-01-01T00:00:00Z"}}}
	in.Now = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	if r := c.Evaluate(in); r.Level != "bronze" {
		t.Fatalf("4 days after: %+v", r)
	}
	in.Now = time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC)
	if r := c.Evaluate(in); r.Level != "" {
		t.Fatalf("8 days after: %+v", r)
	}
}

func TestEvaluateNeverPanicsOnOddInput(t *testing.T) {
	t.Parallel()
	c, _ := Compile(policyWith("p", Check{ID: "owner", Level: "bronze", Rule: `entity.spec.owner == "a"`}))
	for _, in := range []Input{{}, {Entity: map[string]any{"kind": 3}}, {Entity: map[string]any{"kind": "Component", "spec": "text"}}, {Entity: map[string]any{"kind": "Component", "spec": nil}}} {
		r := c.Evaluate(in)
		if r.Level != "" {
			t.Errorf("%v: %+v", in, r)
		}
	}
}
