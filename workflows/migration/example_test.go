package migration_test

import (
	"fmt"

	"backlot.dev/backlot/workflows/migration"
)

// A migration's rollout: a canary wave of 5, then 50, then the rest.
func ExampleRollout_Plan() {
	s, err := migration.Parse([]byte(`apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: add-codeowners}
spec:
  targets: {selector: 'entity.kind == "Component"'}
  change: {script: 'echo "* @${BACKLOT_OWNER}" > CODEOWNERS'}
  pullRequest: {branch: backlot/add-codeowners, title: Add CODEOWNERS}
  rollout: {waves: [5, 50]}
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Spec.Rollout.Plan(200), s.Spec.Rollout.MaxConcurrent, s.Spec.Merge)
	// Output: [5 50 145] 10 manual
}
