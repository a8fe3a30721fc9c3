package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/fault"
)

// problems is a package's own typed error that belongs to a category.
type problems struct{ list []string }

func (p *problems) Error() string        { return fmt.Sprint(p.list) }
func (p *problems) Is(target error) bool { return target == fault.Invalid }

var errGone = fault.Sentinel(fault.NotFound, "store: not found")

func TestCategories(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		want      *fault.Category
		wantValue string
		wantMsg   string
	}{
		{"new", fault.New(fault.Conflict, "file:/a.yaml", "Location %s already exists", "file:/a.yaml"), fault.Conflict, "file:/a.yaml", "Location file:/a.yaml already exists"},
		{"wrapped by fmt", fmt.Errorf("register: %w", fault.New(fault.Forbidden, "/etc", "/etc is outside the roots")), fault.Forbidden, "/etc", "register: /etc is outside the roots"},
		{"wrap keeps the cause's message", fault.Wrap(fault.Unavailable, "", errors.New("event log: timeout")), fault.Unavailable, "", "event log: timeout"},
		{"sentinel", fmt.Errorf("entity x: %w", errGone), fault.NotFound, "", "entity x: store: not found"},
		{"category itself", fault.Unauthenticated, fault.Unauthenticated, "", "unauthenticated"},
		{"typed error with Is", fmt.Errorf("facts: %w", &problems{[]string{"items[0]: bad"}}), fault.Invalid, "", "facts: [items[0]: bad]"},
		{"joined", errors.Join(errors.New("plain"), fault.New(fault.Upstream, "http://x", "refused")), fault.Upstream, "http://x", "plain\nrefused"},
		{"none", errors.New("disk on fire"), nil, "", "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fault.Of(tt.err); got != tt.want {
				t.Errorf("Of = %v, want %v", got, tt.want)
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("errors.Is(err, %v) = false", tt.want)
			}
			for _, other := range []*fault.Category{fault.NotFound, fault.Conflict, fault.Invalid, fault.Unauthenticated, fault.Forbidden, fault.Unavailable, fault.Upstream} {
				if other != tt.want && errors.Is(tt.err, other) {
					t.Errorf("errors.Is(err, %v) = true, want only %v", other, tt.want)
				}
			}
			if got := fault.ValueOf(tt.err); got != tt.wantValue {
				t.Errorf("ValueOf = %q, want %q", got, tt.wantValue)
			}
			if tt.err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestSentinelIdentity(t *testing.T) {
	t.Parallel()
	other := fault.Sentinel(fault.NotFound, "store: not found")
	err := fmt.Errorf("x: %w", errGone)
	if !errors.Is(err, errGone) {
		t.Error("a sentinel must match itself")
	}
	if errors.Is(err, other) {
		t.Error("two sentinels of one category with one message must stay distinct")
	}
}

func TestWrapKeepsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	err := fault.Wrap(fault.Unavailable, "kafka", cause)
	if !errors.Is(err, cause) {
		t.Error("Wrap must unwrap to its cause")
	}
	if fault.Wrap(fault.Unavailable, "", nil) != nil {
		t.Error("Wrap(nil) must be nil")
	}
}

func ExampleNew() {
	err := fmt.Errorf("register: %w", fault.New(fault.Conflict, "url:https://x/catalog-info.yaml", "Location %s already exists", "url:https://x/catalog-info.yaml"))
	fmt.Println(errors.Is(err, fault.Conflict), fault.ValueOf(err))
	// Output: true url:https://x/catalog-info.yaml
}
