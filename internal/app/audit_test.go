package app_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/client"
)

// TestAuditEventsAndVerifyThroughTheAPI reads the raw log through the audit API
// and verifies its hash chain, before and after an event is altered behind
// Backlot's back.
func TestAuditEventsAndVerifyThroughTheAPI(t *testing.T) {
	data := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{examplesCatalog(t)}})
	c := client.New("http://"+d.Addr(), nil)
	ctx := context.Background()

	items, _, err := c.AuditEvents(ctx, client.EventQuery{Subject: "component:default/tracking-service", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Event.Type != "backlot.entity.upserted.v1" || items[0].Position == 0 {
		t.Fatalf("events of tracking-service: %+v", items)
	}
	page, next, err := c.AuditEvents(ctx, client.EventQuery{Types: []string{"backlot.entity.upserted.v1"}, Limit: 5})
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

// tamper starts a dev server on the example catalog, lets edit change its
// files behind Backlot's back, and returns the verification report.
func tamper(t *testing.T, edit func(events, history *sql.DB)) event.VerifyReport {
	t.Helper()
	data := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{examplesCatalog(t)}})
	defer d.Close()
	c := client.New("http://"+d.Addr(), nil)
	if rep, err := c.AuditVerify(context.Background(), nil, nil); err != nil || !rep.OK() {
		t.Fatalf("before tampering: %+v %v", rep, err)
	}
	evDB, err := sql.Open("sqlite", "file:"+filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer evDB.Close()
	hDB, err := sql.Open("sqlite", "file:"+filepath.Join(data, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer hDB.Close()
	edit(evDB, hDB)
	rep, err := c.AuditVerify(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func idAt(t *testing.T, db *sql.DB, pos int) string {
	t.Helper()
	var id string
	if err := db.QueryRow(`SELECT id FROM events WHERE position = ?`, pos).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func problemsOf(rep event.VerifyReport) map[string]string {
	m := map[string]string{}
	for _, p := range rep.Problems {
		m[p.EventID] += p.Kind + " "
	}
	return m
}

// TestVerifyNamesEachTamperingByEventID alters a history row, deletes an event
// from the embedded log, and swaps two events, each behind Backlot's back:
// verify names the event of each by its id.
func TestVerifyNamesEachTamperingByEventID(t *testing.T) {
	t.Run("history row edited", func(t *testing.T) {
		var id string
		rep := tamper(t, func(events, hist *sql.DB) {
			id = idAt(t, events, 10)
			mustExec(t, hist, `UPDATE history_versions SET actor = 'user:default/mallory' WHERE event_id = ?`, id)
		})
		if got := problemsOf(rep)[id]; got != "history " || len(rep.Problems) != 1 {
			t.Fatalf("problems %+v, want one history problem naming %s", rep.Problems, id)
		}
	})
	t.Run("event deleted", func(t *testing.T) {
		var id string
		rep := tamper(t, func(events, hist *sql.DB) {
			id = idAt(t, events, 12)
			mustExec(t, events, `DELETE FROM events WHERE position = 12`)
		})
		if got := problemsOf(rep)[id]; got != "missing " {
			t.Fatalf("problems %+v, want the deleted event %s named missing", rep.Problems, id)
		}
	})
	t.Run("events swapped", func(t *testing.T) {
		var a, b string
		rep := tamper(t, func(events, hist *sql.DB) {
			a, b = idAt(t, events, 20), idAt(t, events, 21)
			mustExec(t, events, `UPDATE events SET position = -1 WHERE position = 20`)
			mustExec(t, events, `UPDATE events SET position = 20 WHERE position = 21`)
			mustExec(t, events, `UPDATE events SET position = 21 WHERE position = -1`)
		})
		p := problemsOf(rep)
		if !strings.Contains(p[a], "moved") || !strings.Contains(p[b], "moved") {
			t.Fatalf("problems %+v, want %s and %s named moved", rep.Problems, a, b)
		}
	})
}
