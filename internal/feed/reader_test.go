package feed_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/feed"
)

func openLog(t *testing.T) *sqlitelog.Log {
	t.Helper()
	log, err := sqlitelog.Open(filepath.Join(t.TempDir(), "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}

// TestReadPagesThroughTheMatchingEvents reads one subject's events a page at a
// time: each page in log order, the cursor continuing where the page ends, and
// an empty page with the cursor at the log's end once all are read.
func TestReadPagesThroughTheMatchingEvents(t *testing.T) {
	log := openLog(t)
	ctx := context.Background()
	if _, err := log.Append(ctx, logtest.MakeEnvelopes("a", 50, 10)); err != nil {
		t.Fatal(err)
	}
	f := feed.New(event.SinglePartition(log))
	filter := feed.Filter{Subject: "component:default/service-3"}
	cursor := event.Positions{}
	var got []int64
	for range 10 {
		evs, next, err := f.Read(ctx, cursor, filter, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Subject != filter.Subject {
				t.Fatalf("event of %s for the filter %s", ev.Subject, filter.Subject)
			}
			got = append(got, ev.Position)
		}
		cursor = next
		if len(evs) == 0 {
			break
		}
	}
	want := []int64{4, 14, 24, 34, 44}
	if len(got) != len(want) {
		t.Fatalf("positions %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("positions %v, want %v", got, want)
		}
	}
	if cursor[0] != 50 {
		t.Fatalf("cursor after the last page: %v, want the log's end", cursor)
	}
	heads, err := f.Heads(ctx)
	if err != nil || heads[0] != 50 {
		t.Fatalf("heads %v, %v", heads, err)
	}
}

// TestReadWaitsForTheNextEvent: with nothing after the cursor, a read waits
// and answers the event appended meanwhile; without a wait it answers nothing.
func TestReadWaitsForTheNextEvent(t *testing.T) {
	log := openLog(t)
	ctx := context.Background()
	if _, err := log.Append(ctx, logtest.MakeEnvelopes("a", 3, 10)); err != nil {
		t.Fatal(err)
	}
	f := feed.New(event.SinglePartition(log))
	end := event.Positions{0: 3}
	if evs, next, err := f.Read(ctx, end, feed.Filter{}, 10, 0); err != nil || len(evs) != 0 || next[0] != 3 {
		t.Fatalf("read at the end without waiting: %d events, cursor %v, %v", len(evs), next, err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		log.Append(ctx, logtest.MakeEnvelopes("b", 1, 10))
	}()
	start := time.Now()
	evs, next, err := f.Read(ctx, end, feed.Filter{}, 10, 10*time.Second)
	if err != nil || len(evs) != 1 || evs[0].Position != 4 || next[0] != 4 {
		t.Fatalf("read with a wait: %d events, cursor %v, %v", len(evs), next, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the read answered after %s, not when the event came", took)
	}
}
