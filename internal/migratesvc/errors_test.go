package migratesvc

import (
	"errors"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/fault"
)

func TestNotFoundNamesTheMigration(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("control: %w", notFound("add-codeowners-1"))
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fault.NotFound) {
		t.Errorf("%v must match ErrNotFound and fault.NotFound", err)
	}
	if errors.Is(err, fault.Conflict) {
		t.Errorf("%v must match no other category", err)
	}
	if got := fault.ValueOf(err); got != "add-codeowners-1" {
		t.Errorf("value %q, want the migration id", got)
	}
	if got := err.Error(); got != "control: No migration with id add-codeowners-1" {
		t.Errorf("message %q", got)
	}
}
