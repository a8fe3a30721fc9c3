package policies_test

import (
	"fmt"

	"backlot.dev/backlot/policies"
)

// A template renders ${{ }} expressions in CEL; Backstage's filters read as calls.
func ExampleParseTemplate() {
	t, err := policies.ParseTemplate(`name: ${{ parameters.name | dump }}, slug: ${{ parameters.repoUrl | projectSlug }}`)
	if err != nil {
		panic(err)
	}
	out, err := t.Render(map[string]any{"parameters": map[string]any{"name": "ledger", "repoUrl": "local?owner=northwind&repo=ledger"}})
	fmt.Println(out, err)
	// Output: name: "ledger", slug: northwind/ledger <nil>
}
