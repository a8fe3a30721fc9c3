package audit_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/eventschema"
)

func TestDenialsRecordAValidEventTheAuditFinds(t *testing.T) {
	t.Parallel()
	log, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	ctx := context.Background()
	d := audit.Denials{Log: log}
	denied := event.PermissionDenied{Principal: "user:default/ada", Permission: "migration.create", ResourceKind: "Migration",
		Reason: "migration.create denied: no rule allows it", Method: "POST", Path: "/api/migrations"}
	if err := d.Record(ctx, denied, "corr-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Record(ctx, event.PermissionDenied{Reason: "x"}, ""); err == nil {
		t.Error("a denial without a permission was recorded")
	}
	evs, err := log.Read(ctx, 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("the log holds %d events, want 1: %v", len(evs), err)
	}
	e := evs[0]
	if e.Type != string(event.TypePermissionDenied) || e.Subject != "principal:user:default/ada" || e.Actor != "user:default/ada" || e.CorrelationID != "corr-1" {
		t.Errorf("envelope = %s %s actor %s correlation %s", e.Type, e.Subject, e.Actor, e.CorrelationID)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventschema.Default().ValidateEnvelope(raw); err != nil {
		t.Errorf("the denial breaks its schema: %v", err)
	}
	var got event.PermissionDenied
	if err := e.Decode(&got); err != nil || got.Permission != "migration.create" || got.Groups == nil {
		t.Errorf("data = %+v, %v", got, err)
	}
	page, err := audit.Service{Log: audit.Embedded{Log: log}}.Events(ctx, audit.EventQuery{Types: []string{string(event.TypePermissionDenied)}, Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("the audit finds %d denials: %v", len(page.Items), err)
	}
}
