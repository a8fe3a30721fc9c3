package scaffolder

import (
	"slices"
	"strings"
	"testing"
)

func TestApprovalInputs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		in        map[string]any
		approvers []string
		self      bool
		err       string
	}{
		{"none named", map[string]any{"message": "ok?"}, nil, false, ""},
		{"a list", map[string]any{"approvers": []any{"user:default/lead", " group:default/security "}, "selfApproval": true},
			[]string{"user:default/lead", "group:default/security"}, true, ""},
		{"a comma-separated string", map[string]any{"approvers": "user:default/a, group:default/b,"}, []string{"user:default/a", "group:default/b"}, false, ""},
		{"not a list", map[string]any{"approvers": 5.0}, nil, false, "steps.approve.input.approvers"},
		{"an empty item", map[string]any{"approvers": []any{"user:default/a", ""}}, nil, false, "steps.approve.input.approvers[1]"},
		{"selfApproval not a bool", map[string]any{"selfApproval": "yes"}, nil, false, "steps.approve.input.selfApproval"},
	} {
		t.Run(c.name, func(t *testing.T) {
			approvers, self, err := approvalInputs("approve", c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one naming %s", err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(approvers, c.approvers) || self != c.self {
				t.Errorf("= %v, %v, %v; want %v, %v", approvers, self, err, c.approvers, c.self)
			}
		})
	}
}
