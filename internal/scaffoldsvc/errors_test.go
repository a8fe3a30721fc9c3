package scaffoldsvc

import (
	"errors"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/workflows/scaffolder"
)

func TestTaskErrorNamesTheTask(t *testing.T) {
	t.Parallel()
	err := taskError("t-1", fmt.Errorf("state: %w", scaffolder.ErrNoTask))
	if !errors.Is(err, scaffolder.ErrNoTask) || !errors.Is(err, fault.NotFound) {
		t.Errorf("%v must match scaffolder.ErrNoTask and fault.NotFound", err)
	}
	if got := fault.ValueOf(err); got != "t-1" {
		t.Errorf("value %q, want the task id", got)
	}
	if got := err.Error(); got != "No task with id t-1" {
		t.Errorf("message %q", got)
	}
	other := errors.New("temporal: unavailable")
	if got := taskError("t-1", other); got != other {
		t.Errorf("taskError changed an error that is not about a missing task: %v", got)
	}
	if taskError("t-1", nil) != nil {
		t.Error("taskError(nil) must be nil")
	}
}
