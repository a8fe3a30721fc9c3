package webui

import (
	"reflect"
	"testing"

	"backlot.dev/backlot/workflows/migration"
)

func TestMigrationButtonsFitItsState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		rep  migration.Report
		want []string
	}{
		{"running with open change requests", migration.Report{State: migration.MigrationRunning,
			Counts: map[migration.TargetState]int{migration.StateOpened: 2}}, []string{"pause", "cancel", "close-prs"}},
		{"paused", migration.Report{State: migration.MigrationPaused, Paused: true}, []string{"resume", "cancel"}},
		{"stopped by its failures", migration.Report{State: migration.MigrationStopped, Stopped: true,
			Counts: map[migration.TargetState]int{migration.StateFailed: 1, migration.StateMerged: 4}}, []string{"resume", "cancel", "retry-failed"}},
		{"completed", migration.Report{State: migration.MigrationCompleted, Counts: map[migration.TargetState]int{migration.StateMerged: 5}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := opsFor(c.rep); !reflect.DeepEqual(got, c.want) {
				t.Errorf("buttons %v, want %v", got, c.want)
			}
		})
	}
	if total, done := progressOf(map[migration.TargetState]int{migration.StateMerged: 2, migration.StateUnchanged: 1,
		migration.StateClosed: 1, migration.StateFailed: 3, migration.StateOpened: 1}); total != 8 || done != 4 {
		t.Errorf("progress %d of %d, want 4 of 8", done, total)
	}
}

func TestSubjectURL(t *testing.T) {
	t.Parallel()
	for subject, want := range map[string]string{
		"component:default/checkout": "/catalog/default/component/checkout",
		"task:abc":                   "/create/tasks/abc",
		"migration:m-1":              "/migrations/m-1",
		"location:xyz":               "",
		"":                           "",
	} {
		if got := subjectURL(subject); got != want {
			t.Errorf("%q: %q, want %q", subject, got, want)
		}
	}
}
