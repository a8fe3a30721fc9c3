package policies_test

import (
	"fmt"
	"time"

	"backlot.dev/backlot/policies"
)

func ExampleCompiled_Evaluate() {
	ps, err := policies.ParsePolicies("certification.yaml", []byte(`
apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: test-certification, title: Test certification}
spec:
  selector: entity.kind == "Component"
  levels: [bronze, gold]
  checks:
    - id: has-owner
      level: bronze
      rule: has(entity.spec.owner)
      message: Every component has an owner
    - id: coverage
      level: gold
      rule: '"ci" in facts && facts.ci.coverage >= 80'
      message: Line coverage is at least 80%
`))
	if err != nil {
		panic(err)
	}
	c, err := policies.Compile(ps[0])
	if err != nil {
		panic(err)
	}
	r := c.Evaluate(policies.Input{
		Entity: map[string]any{"kind": "Component", "spec": map[string]any{"owner": "team-a"}},
		Facts:  map[string]map[string]any{"ci": {"coverage": 72.5}},
		Now:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	fmt.Println("level:", r.Level)
	for _, ch := range r.Checks {
		fmt.Println(ch.ID, ch.Passed)
	}
	// Output:
	// level: bronze
	// has-owner true
	// coverage false
}
