package httpapi_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

// allSet fails unless every JSON-visible field of the struct v is set, so a
// field added to a server type fails this test until the client learns it.
func allSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Tag.Get("json") == "-" || !f.IsExported() {
			continue
		}
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is not set in the test value: set it, and add it to the client's copy", rt, f.Name)
		}
	}
}

// sameJSON marshals from, decodes it into a new value of to's type, and fails
// unless that value marshals to the same JSON.
func sameJSON(t *testing.T, from any, to any) {
	t.Helper()
	raw, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	p := reflect.New(reflect.TypeOf(to))
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		t.Fatalf("%T: %v", to, err)
	}
	again, err := json.Marshal(p.Elem().Interface())
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(raw, &a)
	_ = json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%T -> %T loses data:\n sent %s\n read %s", from, to, raw, again)
	}
}

// TestClientWireTypesMatchTheServers checks that each of the client's own
// wire types carries every field of the server's type it mirrors, both ways.
func TestClientWireTypesMatchTheServers(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	mark := history.Mark{Pos: history.Pos{Partition: 2, Position: 41}, Time: at}
	later := history.Mark{Pos: history.Pos{Partition: 2, Position: 42}, Time: at.Add(time.Hour)}
	check := event.CheckOutcome{ID: "owner", Level: "bronze", Passed: false, Message: "has an owner", Error: "no such field"}
	tests := []struct {
		name   string
		server any
		client any
	}{
		{"location", catalogstore.Location{ID: "loc-1", Type: "url", Target: "https://x/catalog-info.yaml", EntityRef: "location:default/x"}, client.Location{}},
		{"facet count", catalogstore.FacetCount{Value: "service", Count: 3}, client.FacetCount{}},
		{"history version", history.Version{Key: "component:default/a", Ref: "component:default/A", UID: "u", Number: 2,
			ValidFrom: mark, ValidTo: &later, Removed: true, Body: json.RawMessage(`{"kind":"Component"}`), Hash: "h",
			EventID: "e", EventType: "backlot.entity.upserted.v1", Actor: "user:default/a", CorrelationID: "c", LocationID: "l",
			ManagedBy: "url:https://x", Commit: &event.Commit{SHA: "abc", Author: "A", Email: "a@x", Time: "2026-01-01T00:00:00Z"}, Digest: "d"},
			client.Version{}},
		{"audit event", audit.EventItem{Position: 3, Partition: 1, Event: event.Envelope{ID: "e", Source: "backlot", SpecVersion: "1.0", Type: "t",
			Subject: "component:default/a", Time: at, DataContentType: "application/json", Actor: "user:default/a", Data: json.RawMessage(`{"n":1}`)}},
			client.AuditEvent{}},
		{"history version with changes", audit.VersionChanges{Version: history.Version{Key: "component:default/a", Number: 1, ValidFrom: mark, EventID: "e"},
			Changes: []catalog.FieldChange{{Path: "spec.owner", Op: catalog.OpChanged, Before: "a", After: "b"}}}, client.HistoryVersion{}},
		{"diff entry", audit.DiffEntry{Ref: "component:default/a", Changes: []catalog.FieldChange{{Path: "spec.owner", Op: catalog.OpAdded, After: "b"}},
			From: &audit.VersionRef{Version: 1, EventID: "e1", Actor: "user:default/a"}, To: &audit.VersionRef{Version: 2, EventID: "e2"}}, client.DiffEntry{}},
		{"diff version", audit.VersionRef{Version: 1, EventID: "e1", Actor: "user:default/a"}, client.DiffVersion{}},
		{"badge", badges.Badge{Entity: "component:default/a", Owner: "group:default/t", Policy: "p", Level: "gold", Rank: 3,
			Checks: []event.CheckOutcome{check}, Campaigns: []string{"c1"}, EntityHash: "eh", Since: mark, EventID: "e"}, client.Badge{}},
		{"fact set", badges.FactSet{Source: "ci", Facts: json.RawMessage(`{"green":true}`), ObservedAt: at, Position: 9}, client.FactSet{}},
		{"fact item", badging.FactItem{Entity: "component:a", Source: "ci", Facts: json.RawMessage(`{"green":true}`), ObservedAt: at}, client.FactItem{}},
		{"subscription", webhooks.Subscription{ID: "s", URL: "http://127.0.0.1:9/hook", Filter: "true", CreatedAt: at, CreatedBy: "user:default/a",
			Cursor: 4, Start: "0:1", Secret: "never sent"}, client.Subscription{}},
		{"dead letter", webhooks.DeadLetter{EventID: "e", Reason: "500", At: at, Event: json.RawMessage(`{"id":"e"}`)}, client.DeadLetter{}},
		{"subscription input", webhooks.Input{URL: "http://127.0.0.1:9/hook", Filter: "true", Secret: "s"}, client.SubscriptionInput{}},
		{"migration plan", migratesvc.Plan{ID: "m-1", Name: "m", DryRun: true, Targets: []string{"component:default/a"},
			Skipped:  []migration.Skipped{{Ref: "component:default/b", Reason: "no repository"}},
			Previews: []migration.Preview{{Ref: "component:default/a", Repo: "acme/a", Diff: "+x", Truncated: true}}}, client.MigrationPlan{}},
		{"migration skipped", migration.Skipped{Ref: "component:default/b", Reason: "no repository"}, client.MigrationSkipped{}},
		{"migration preview", migration.Preview{Ref: "component:default/a", Repo: "acme/a", Unchanged: true, Diff: "+x", Truncated: true,
			Output: "ran", Error: "exit 1"}, client.MigrationPreview{}},
		{"migration report", migration.Report{ID: "m-1", Name: "m", State: migration.MigrationStopped, Paused: true, Stopped: true, Cancelled: true,
			Reason: "too many failures", Wave: 2, Waves: []int{1, 5}, Counts: map[migration.TargetState]int{migration.StateMerged: 1, migration.StateFailed: 2},
			Targets:  []migration.TargetRow{{Ref: "component:default/a", Repo: "acme/a", State: migration.StateFailed, Change: 3}},
			Burndown: []migration.BurndownPoint{{Time: at, Remaining: 4}}, Runs: 1, RetryUntil: at}, client.MigrationReport{}},
		{"migration target", migration.TargetRow{Ref: "component:default/a", Repo: "acme/a", State: migration.StateOpened, Change: 3,
			ChangeURL: "http://git/acme/a/pull/3", Error: "checks failed", Output: "ran", Attempts: 2}, client.MigrationTarget{}},
		{"burndown point", migration.BurndownPoint{Time: at, Remaining: 4}, client.BurndownPoint{}},
		{"parameter schema", scaffolder.ParameterSchema{Title: "t", Description: "d", Steps: []scaffolder.ParameterStep{{Title: "p", Schema: map[string]any{"type": "object"}}}},
			client.ParameterSchema{}},
		{"parameter step", scaffolder.ParameterStep{Title: "p", Description: "d", Schema: map[string]any{"type": "object"}}, client.ParameterStep{}},
		{"step state", scaffolder.StepState{ID: "fetch", Name: "Fetch", Action: "fetch:template", Status: scaffolder.StatusCompleted,
			StartedAt: &at, EndedAt: &at}, client.StepState{}},
		{"waiting", scaffolder.Waiting{StepID: "approve", Message: "approve?", Since: at, Approvers: []string{"group:default/security"}, SelfApproval: true}, client.Waiting{}},
		{"permission decision", httpapi.DecideResponse{Allowed: true, Rule: "owners-write", Reason: "allowed", Principal: "user:default/a",
			Groups: []string{"group:default/team-a"}, Permission: "catalog.entity.delete", Resource: permission.Resource{"kind": "Component"}, Policy: "default"},
			client.Decision{}},
		{"decide request", httpapi.DecideRequest{Principal: "user:default/a", Groups: &[]string{"group:default/team-a"}, Permission: "catalog.entity.delete",
			Resource: json.RawMessage(`"component:default/a"`)}, client.DecideRequest{}},
		{"log line", scaffolder.LogLine{CreatedAt: at, StepID: "fetch", Status: "processing", Message: "Beginning step"}, client.LogLine{}},
		{"file", scaffolder.File{Path: "a/b.sh", Base64Content: "eA==", Executable: true}, client.File{}},
		{"dry run result", scaffolder.DryRunResult{Log: []scaffolder.LogLine{{CreatedAt: at, Message: "m"}},
			DirectoryContents: []scaffolder.File{{Path: "a", Base64Content: "eA=="}}, Output: map[string]any{"x": "y"},
			Steps: []scaffolder.StepState{{ID: "fetch", Status: "completed"}}}, client.DryRunResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			allSet(t, tt.server)
			sameJSON(t, tt.server, tt.client)
			// And back: what the client holds (or sends) the server reads whole.
			raw, _ := json.Marshal(tt.server)
			p := reflect.New(reflect.TypeOf(tt.client))
			if err := json.Unmarshal(raw, p.Interface()); err != nil {
				t.Fatal(err)
			}
			allSet(t, p.Elem().Interface())
			sameJSON(t, p.Elem().Interface(), tt.server)
		})
	}
}
