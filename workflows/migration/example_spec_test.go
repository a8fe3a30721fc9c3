package migration_test

import (
	"os"
	"testing"

	"backlot.dev/backlot/workflows/migration"
)

// TestTheExampleMigrationValidates keeps examples/migrations in step with
// the spec: the README runs it.
func TestTheExampleMigrationValidates(t *testing.T) {
	raw, err := os.ReadFile("../../examples/migrations/add-codeowners.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := migration.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.Spec.Rollout.Plan(300); len(got) != 3 || got[0] != 5 || got[1] != 50 || got[2] != 245 {
		t.Fatalf("waves of 300 targets: %v", got)
	}
}
