package catalogsvc_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/catalogsvc"
)

// TestWriteErrorsHaveCategories checks that each refused write says what
// went wrong by category, with the offending value, and nothing about HTTP.
func TestWriteErrorsHaveCategories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	file := e.write(t, "a.yaml", component("a", "production"))
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false); err != nil {
		t.Fatal(err)
	}

	_, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	var ce *catalogsvc.ConflictError
	if !errors.Is(err, fault.Conflict) || !errors.As(err, &ce) || ce.Location != "file:"+file {
		t.Errorf("second registration: %v, want a conflict naming file:%s", err, file)
	}

	outside := filepath.Join(filepath.Dir(e.root), "elsewhere.yaml")
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", outside, false); !errors.Is(err, fault.Forbidden) {
		t.Errorf("a file outside the roots: %v, want fault.Forbidden", err)
	}

	missing := filepath.Join(e.root, "missing.yaml")
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", missing, true); !errors.Is(err, fault.NotFound) {
		t.Errorf("a dry run of a missing file: %v, want fault.NotFound", err)
	}

	if err := e.svc.RemoveLocation(ctx, "user:default/ada", "no-such-id"); !errors.Is(err, fault.NotFound) {
		t.Errorf("removing an unknown location: %v, want fault.NotFound", err)
	}
}
