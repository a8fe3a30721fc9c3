package scaffoldsvc

import (
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

func TestChooseTasks(t *testing.T) {
	t.Parallel()
	list := []scaffolder.TaskSummary{
		{ID: "1", User: "user:default/ada", Status: scaffolder.StatusCompleted},
		{ID: "2", User: "user:default/bob", Status: scaffolder.StatusFailed},
		{ID: "3", User: "user:default/ada", Status: scaffolder.StatusFailed},
	}
	ids := func(ts []scaffolder.TaskSummary) string {
		out := ""
		for _, t := range ts {
			out += t.ID
		}
		return out
	}
	for _, tc := range []struct {
		name, createdBy, status, want string
	}{
		{"all", "", "", "123"},
		{"by creator", "user:default/ada", "", "13"},
		{"by status", "", scaffolder.StatusFailed, "23"},
		{"by both", "user:default/ada", scaffolder.StatusFailed, "3"},
		{"none", "user:default/eve", "", ""},
	} {
		got := chooseTasks(list, tc.createdBy, tc.status)
		if got == nil || ids(got) != tc.want {
			t.Errorf("%s: chooseTasks = %v, want ids %q (never nil)", tc.name, got, tc.want)
		}
	}
}
