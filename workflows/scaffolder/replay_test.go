package scaffolder_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/workflows/scaffolder"
)

// TestReplayRecordedHistories replays the histories cmd/backlot's process
// tests recorded from real runs of backlot dev (a completed task per
// template, a task that failed at register, and a task whose process was
// killed mid-way and restarted; BACKLOT_RECORD_HISTORIES=1 records them
// again). A change to the workflow that would break running tasks fails
// here with a non-determinism error.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.history.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("%d recorded histories in testdata, want at least 5", len(files))
	}
	dc, err := scaffolder.NewDataConverter([]byte("backlot-replay-test-key-32-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(scaffolder.TaskWorkflow, workflow.RegisterOptions{Name: scaffolder.WorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
