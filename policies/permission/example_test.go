package permission_test

import (
	"fmt"

	"backlot.dev/backlot/policies/permission"
)

// Decide with the default policy: the caller resolves the principal's groups
// and the resource's owner and approvers, the engine answers and names the
// rule that decided.
func Example() {
	engine, err := permission.Default(map[string]string{"platformGroup": "group:default/sre"})
	if err != nil {
		panic(err)
	}
	alice := permission.Principal{Ref: "user:default/alice", Groups: []string{"group:default/team-a"}}
	api := permission.Resource{"kind": "Component", "ref": "component:default/api", "owner": "group:default/team-a"}
	step := permission.Resource{"kind": "ApprovalStep", "taskCreator": "user:default/alice", "approvers": []string{"group:default/team-a"}}

	for _, q := range []struct {
		action   permission.Permission
		resource permission.Resource
	}{
		{permission.CatalogEntityDelete, api},
		{permission.MigrationCreate, nil},
		{permission.ScaffolderApprovalDecide, step},
	} {
		d := engine.Decide(alice, q.action, q.resource)
		fmt.Printf("%s: allowed=%v rule=%q\n", q.action, d.Allowed, d.Rule)
	}
	fmt.Println(engine.Decide(permission.Principal{}, permission.CatalogEntityRead, api).Reason)
	// Output:
	// catalog.entity.delete: allowed=true rule="owners-write"
	// migration.create: allowed=false rule=""
	// scaffolder.approval.decide: allowed=false rule="no-self-approval"
	// catalog.entity.read denied by rule anonymous-denied: nobody signed in may do anything
}

// A policy of one's own, parsed and compiled; a compile error names the rule
// and the position.
func ExampleCompile() {
	doc := []byte(`apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: strict}
spec:
  rules:
    - name: typo
      permissions: ["catalog.*"]
      effect: allow
      if: principal.grups.exists(g, g == "group:default/admins")
`)
	p, err := permission.Parse("strict.yaml", doc)
	if err != nil {
		panic(err)
	}
	_, err = permission.Compile(p, nil)
	fmt.Println(err)
	// Output:
	// permission policy strict: rule typo: if 1:1: undeclared reference to 'principal' (in container '')
}
