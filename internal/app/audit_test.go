package app_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/httpapi"
)

// TestAuditEventsAndVerifyThroughTheAPI reads the raw log through the audit API
// and verifies its hash chain, before and after an event is altered behind
// Backlot's back.
func TestAuditEventsAndVerifyThroughTheAPI(t *testing.T) {
	data := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{examplesCatalog(t)}})
	c := httpapi.NewClient("http://"+d.Addr(), nil)
	ctx := context.Background()

	items, _, err := c.AuditEvents(ctx, httpapi.EventQuery{Subject: "component:default/tracking-service", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Event.Type != "backlot.entity.upserted.v1" || items[0].Position == 0 {
		t.Fatalf("events of tracking-service: %+v", items)
	}
	page, next, err := c.AuditEvents(ctx, httpapi.EventQuery{Types: []string{"backlot.entity.upserted.v1"}, Limit: 5})
	if err != nil || len(page) != 5 || next == "" {
		t.Fatalf("a first page of 5: %d items, cursor %q, %v", len(page), next, err)
	}

	var calls int
	rep, err := c.AuditVerify(ctx, nil, func(done, total int64) { calls++ })
	if err != nil || !rep.OK() || rep.Events < 50 || calls == 0 {
		t.Fatalf("verify an untouched log: %+v, %d progress calls, %v", rep, calls, err)
	}
	checkpoint := map[int64]string{rep.Head: rep.HeadLink}

	// Alter one event's actor behind the log's back.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := db.QueryRow(`SELECT id FROM events WHERE position = 7`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET actor = 'user:default/mallory' WHERE position = 7`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep, err = c.AuditVerify(ctx, checkpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].EventID != id || rep.Problems[0].Kind != "altered" {
		t.Fatalf("verify after an edit: %+v, want event %s altered", rep.Problems, id)
	}
}
