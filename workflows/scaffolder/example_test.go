package scaffolder_test

import (
	"fmt"

	"backlot.dev/backlot/workflows/scaffolder"
)

// A step's input renders with the task's parameters; a whole expression
// keeps its type.
func ExampleRender() {
	in := map[string]any{"description": "This is ${{ parameters.name }}", "port": "${{ parameters.port }}"}
	out, err := scaffolder.Render("steps.publish.input", in, map[string]any{"parameters": map[string]any{"name": "ledger", "port": 8080}})
	fmt.Println(out, err)
	// Output: map[description:This is ledger port:8080] <nil>
}
