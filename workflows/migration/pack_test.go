package migration_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

// TestInputOf10000TargetsFitsAPayload encodes a migration of 10,000 targets
// with a carried state the way Temporal does: it stays well under the 2 MB
// payload limit and reads back equal; a small input stays plain JSON.
func TestInputOf10000TargetsFitsAPayload(t *testing.T) {
	t.Parallel()
	spec := parseSpec(t, "", migration.Rollout{MaxConcurrent: 20}, "auto")
	in := migration.Input{ID: "m-big", Spec: *spec, Actor: "user:default/ada", State: &migration.State{Runs: 3, Seq: 40000}}
	for i := range 10_000 {
		name := fmt.Sprintf("service-%05d", i)
		in.Targets = append(in.Targets, migration.TargetInput{Ref: "component:default/" + name, Name: name, Owner: "group:default/team-" + fmt.Sprint(i%40),
			Repo: "https://github.com/northwind/" + name + "/tree/main/", Title: "Add CODEOWNERS", Body: "Adds CODEOWNERS to " + name})
		row := migration.Row{State: migration.StateMerged, Change: 12, ChangeURL: "https://github.com/northwind/" + name + "/pull/12", Attempts: 1,
			Repo: &githost.Repo{Owner: "northwind", Name: name, RemoteURL: "https://github.com/northwind/" + name + ".git", DefaultBranch: "main"}}
		in.State.Rows = append(in.State.Rows, row)
	}
	in.State.Burndown = []migration.BurndownPoint{{Time: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Remaining: 10_000}}
	p, err := converter.GetDefaultDataConverter().ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Data); n > 1<<20 {
		t.Errorf("10,000 targets take %d bytes", n)
	}
	var back migration.Input
	if err := converter.GetDefaultDataConverter().FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Targets, in.Targets) || !reflect.DeepEqual(back.State, in.State) || back.ID != in.ID || back.Spec.Spec.Change != in.Spec.Spec.Change {
		t.Fatal("the input read back differs")
	}

	small := migration.Input{ID: "m-small", Spec: *spec, Targets: in.Targets[:3]}
	b, _ := json.Marshal(small)
	var plain map[string]any
	json.Unmarshal(b, &plain)
	if _, ok := plain["targets"]; !ok || plain["packed"] != nil {
		t.Errorf("a small input: %s", b)
	}
}
