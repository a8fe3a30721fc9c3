package sqlitelog_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
)

// tamperedLog appends 20 events, closes the log, lets tamper edit the file
// behind the log's back, reopens it and returns the verification report and the
// events as appended.
func tamperedLog(t *testing.T, tamper func(db *sql.DB)) (event.VerifyReport, []event.Envelope) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	l, err := sqlitelog.Open(path, sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Envelope
	for i := range 20 {
		ev, err := event.New(event.TypeEntityRemoved, fmt.Sprintf("component:default/c%d", i),
			event.EntityRemoved{Ref: fmt.Sprintf("component:default/c%d", i), UID: fmt.Sprint(i)}, event.Meta{Actor: "user:default/ada"})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := l.Append(context.Background(), evs[:7]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), evs[7:]); err != nil {
		t.Fatal(err)
	}
	clean, err := l.Verify(context.Background(), sqlitelog.VerifyOptions{})
	if err != nil || !clean.OK() || clean.Events != 20 {
		t.Fatalf("an untouched log: %+v, %v", clean, err)
	}
	l.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	tamper(db)
	db.Close()
	l, err = sqlitelog.Open(path, sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var progress int64
	rep, err := l.Verify(context.Background(), sqlitelog.VerifyOptions{
		Checkpoints: map[int64]string{20: clean.HeadLink},
		Progress:    func(done, total int64) { progress = done },
	})
	if err != nil {
		t.Fatal(err)
	}
	if progress != rep.Events {
		t.Fatalf("progress reported %d of %d events", progress, rep.Events)
	}
	return rep, evs
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func kinds(rep event.VerifyReport) string {
	var s []string
	for _, p := range rep.Problems {
		s = append(s, fmt.Sprintf("%s@%d:%s", p.Kind, p.Position, p.EventID))
	}
	return strings.Join(s, " ")
}

func TestVerifyNamesAnAlteredEvent(t *testing.T) {
	rep, evs := tamperedLog(t, func(db *sql.DB) {
		exec(t, db, `UPDATE events SET actor = 'user:default/mallory' WHERE position = 5`)
	})
	if got, want := kinds(rep), "altered@5:"+evs[4].ID+" checkpoint@20:"+evs[19].ID; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestVerifyNamesADeletedEvent(t *testing.T) {
	rep, evs := tamperedLog(t, func(db *sql.DB) {
		exec(t, db, `DELETE FROM events WHERE position = 9`)
	})
	if got, want := kinds(rep), "missing@9: checkpoint@20:"+evs[19].ID; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
	if !strings.Contains(rep.Problems[0].Detail, evs[9].ID) {
		t.Fatalf("the gap is not placed before the event that follows it: %s", rep.Problems[0].Detail)
	}
}

func TestVerifyNamesSwappedEvents(t *testing.T) {
	rep, evs := tamperedLog(t, func(db *sql.DB) {
		// Swap every column but the position of rows 3 and 4.
		exec(t, db, `UPDATE events SET position = -1 WHERE position = 3`)
		exec(t, db, `UPDATE events SET position = 3 WHERE position = 4`)
		exec(t, db, `UPDATE events SET position = 4 WHERE position = -1`)
	})
	if got, want := kinds(rep), "moved@3:"+evs[3].ID+" moved@4:"+evs[2].ID+" checkpoint@20:"+evs[19].ID; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestVerifyNoticesATruncatedLog(t *testing.T) {
	rep, _ := tamperedLog(t, func(db *sql.DB) {
		exec(t, db, `DELETE FROM events WHERE position > 15`)
	})
	if got := kinds(rep); got != "checkpoint@20:" {
		t.Fatalf("problems %q, want the checkpoint past the end", got)
	}
}

func TestVerifyNamesEventsWhoseContentWasSwapped(t *testing.T) {
	rep, evs := tamperedLog(t, func(db *sql.DB) {
		// Swap the contents of rows 11 and 12, leaving each position's link.
		exec(t, db, `CREATE TEMP TABLE t AS SELECT position, id, subject, data FROM events WHERE position IN (11, 12)`)
		exec(t, db, `UPDATE events SET id = 'tmp-' || position WHERE position IN (11, 12)`)
		for _, p := range [][2]int{{11, 12}, {12, 11}} {
			exec(t, db, `UPDATE events SET id = (SELECT id FROM t WHERE position = ?), subject = (SELECT subject FROM t WHERE position = ?),
				data = (SELECT data FROM t WHERE position = ?) WHERE position = ?`, p[1], p[1], p[1], p[0])
		}
	})
	if got, want := kinds(rep), "altered@11:"+evs[11].ID+" altered@12:"+evs[10].ID+" checkpoint@20:"+evs[19].ID; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestLinksOfALargeLogVerify(t *testing.T) {
	l, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for b := range 5 {
		var evs []event.Envelope
		for i := range 1000 {
			ev, _ := event.New(event.TypeEntityRemoved, fmt.Sprintf("component:default/c%d-%d", b, i), event.EntityRemoved{Ref: "x"}, event.Meta{})
			evs = append(evs, ev)
		}
		if _, err := l.Append(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := l.Verify(context.Background(), sqlitelog.VerifyOptions{})
	if err != nil || !rep.OK() || rep.Events != 5000 || rep.Head != 5000 {
		t.Fatalf("%+v %v", rep, err)
	}
}
