package migration_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/workflows/migration"
)

// TestReplayRecordedHistories replays the histories of a migration that
// cmd/backlot's TestMigrationCanaryStopsAndRetryFailedFinishes recorded from
// backlot dev (BACKLOT_RECORD_HISTORIES=1 records them again): the parent,
// stopped by its canary, retried and resumed, and every per-repository
// child. A change to the workflows that would break running migrations
// fails here with a non-determinism error.
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.history.json")
	if err != nil {
		t.Fatal(err)
	}
	var parents, children int
	for _, f := range files {
		if m, _ := filepath.Match("testdata/canary-migration-repo-*", f); m {
			children++
		} else {
			parents++
		}
	}
	if parents == 0 || children < 6 {
		t.Fatalf("recorded histories: %d parents, %d children in testdata; want the parent and every child", parents, children)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(migration.MigrationWorkflow, workflow.RegisterOptions{Name: migration.WorkflowName})
			r.RegisterWorkflowWithOptions(migration.RepoWorkflow, workflow.RegisterOptions{Name: migration.RepoWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
