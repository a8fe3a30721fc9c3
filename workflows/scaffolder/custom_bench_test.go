package scaffolder_test

import (
	"context"
	"fmt"
	"testing"

	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
	"backlot.dev/backlot/workflows/scaffolder/customaction"
)

// BenchmarkExecutableAction runs roadiehq:utils:fs:write, a shipped
// executable, once per iteration in a fresh bubblewrap sandbox: the cost a
// custom executable step adds to a task, beside its own work.
func BenchmarkExecutableAction(b *testing.B) {
	custom, err := customaction.Load(shippedActions(b))
	if err != nil {
		b.Fatal(err)
	}
	sb, err := sandbox.New(context.Background(), sandbox.Config{ReadOnly: customaction.Dirs(custom)})
	if err != nil {
		b.Fatal(err)
	}
	a := &scaffolder.Activities{WorkDir: b.TempDir(), Custom: custom, Sandbox: sb}
	for i := 0; b.Loop(); i++ {
		in := scaffolder.ActionInput{Task: "bench", StepID: fmt.Sprintf("write-%d", i), Action: "roadiehq:utils:fs:write",
			Input: map[string]any{"path": "notes.md", "content": "# notes\n"}}
		if _, err := scaffolder.RunAction(context.Background(), a, in, nil); err != nil {
			b.Fatal(err)
		}
	}
}
