package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// embedded returns an embedded log of n generated events, the history folded
// from it, and the audit over both.
func embedded(t *testing.T, n int) (audit.Embedded, []event.Envelope, string) {
	t.Helper()
	dir := t.TempDir()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	evs := histtest.Generate(t, 7, n)
	for i := range evs {
		evs[i].Position = 0
	}
	ctx := context.Background()
	if _, err := log.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	stored, err := log.Read(ctx, 0, n)
	if err != nil || len(stored) != n {
		t.Fatalf("read back %d events: %v", len(stored), err)
	}
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	if err := hist.Apply(ctx, stored); err != nil {
		t.Fatal(err)
	}
	return audit.Embedded{Log: log, History: hist}, stored, dir
}

func TestEmbeddedEventsFilter(t *testing.T) {
	a, evs, _ := embedded(t, 60)
	subject := evs[0].Subject
	want := 0
	for _, ev := range evs {
		if ev.Subject == subject {
			want++
		}
	}
	got, err := a.Events(context.Background(), audit.EventQuery{Subject: subject, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != want || want == 0 {
		t.Fatalf("events of %s: %d, want %d", subject, len(got), want)
	}
	for _, ev := range got {
		if ev.Subject != subject {
			t.Fatalf("event of %s in the answer for %s", ev.Subject, subject)
		}
	}
	if page, err := a.Events(context.Background(), audit.EventQuery{Limit: 5}); err != nil || len(page) != 5 || page[0].Position != 1 {
		t.Fatalf("first page of 5: %d events, %v", len(page), err)
	}
}

// TestEmbeddedVerifyNamesTheDeletedEvent: an untouched log verifies; an event
// deleted behind Backlot's back is named by its id, as the history recorded it.
func TestEmbeddedVerifyNamesTheDeletedEvent(t *testing.T) {
	a, evs, dir := embedded(t, 60)
	ctx := context.Background()
	var calls int
	rep, err := a.Verify(ctx, nil, func(done, total int64) { calls++ })
	if err != nil || !rep.OK() || rep.Events != int64(len(evs)) || calls == 0 {
		t.Fatalf("verify an untouched log: %+v, %d progress calls, %v", rep, calls, err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gone := evs[29]
	if _, err := db.Exec(`DELETE FROM events WHERE position = ?`, gone.Position); err != nil {
		t.Fatal(err)
	}
	rep, err = a.Verify(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		if p.EventID == gone.ID && p.Kind == "missing" && strings.Contains(p.Detail, gone.ID) {
			found = true
		}
	}
	if !found {
		t.Fatalf("problems %+v, want event %s named missing", rep.Problems, gone.ID)
	}
}

// stuck is a waiter that never gets there.
type stuck struct{}

func (stuck) WaitFor(ctx context.Context, _ event.Positions) error {
	<-ctx.Done()
	return ctx.Err()
}
func (stuck) Applied() event.Positions { return event.Positions{} }

// TestCaughtUpHistoryAnswersTheWaitsError: a read of a history that does not
// reach the target answers an error naming the history read model, not a
// stale answer; a target that cannot be read names the catalog.
func TestCaughtUpHistoryAnswersTheWaitsError(t *testing.T) {
	a, _, _ := embedded(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := audit.CaughtUpHistory{Reader: a.History, Waiter: stuck{},
		Target: func(context.Context) (event.Positions, error) { return event.Positions{0: 10}, nil }}
	if _, err := h.Versions(ctx, "component:default/checkout", 0, 10); err == nil || !strings.Contains(err.Error(), "history read model") {
		t.Fatalf("versions of a history behind: %v", err)
	}
	h.Target = func(context.Context) (event.Positions, error) { return nil, errors.New("down") }
	if _, err := h.Digests(context.Background(), history.Pos{}, 1); err == nil || !strings.Contains(err.Error(), "catalog read model: down") {
		t.Fatalf("digests without a target: %v", err)
	}
}
