package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// TestStreamReadsWhatReadReads appends 2,500 events and checks Stream hands
// over every one, in batches of at most Batch, equal to what Read answers,
// and only those before an instant when Before is set.
func TestStreamReadsWhatReadReads(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	evs := logtest.MakeEnvelopes("s", 2500, 64)
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	var want []event.Envelope
	for after := int64(0); ; {
		page, err := l.Read(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		want = append(want, page...)
		after = page[len(page)-1].Position
	}
	// Lean reads the position, id, type, subject and data alone.
	lean := make([]event.Envelope, len(want))
	for i, e := range want {
		lean[i] = event.Envelope{Position: e.Position, ID: e.ID, Type: e.Type, Subject: e.Subject, Data: e.Data}
	}
	for _, tt := range []struct {
		name string
		opts StreamOptions
		want []event.Envelope
	}{
		{"everything", StreamOptions{Batch: 300}, want},
		{"before an instant", StreamOptions{Before: evs[1234].Time}, want[:1234]},
		{"lean", StreamOptions{Batch: 700, Lean: true}, lean},
		{"lean before an instant", StreamOptions{Before: evs[1234].Time, Lean: true}, lean[:1234]},
		{"reused", StreamOptions{Batch: 300, Reuse: true}, want},
		{"lean reused", StreamOptions{Batch: 128, Lean: true, Reuse: true}, lean},
		{"three readers", StreamOptions{Batch: 300, Readers: 3}, want},
		{"two readers before an instant", StreamOptions{Batch: 256, Readers: 2, Before: evs[1234].Time}, want[:1234]},
		{"two readers lean", StreamOptions{Batch: 700, Readers: 2, Lean: true}, lean},
		{"two readers lean before an instant", StreamOptions{Batch: 64, Readers: 2, Before: evs[1234].Time, Lean: true}, lean[:1234]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []event.Envelope
			err := Stream(t.Context(), path, tt.opts, func(batch []event.Envelope) error {
				if tt.opts.Batch > 0 && len(batch) > tt.opts.Batch {
					t.Errorf("a batch of %d events, want at most %d", len(batch), tt.opts.Batch)
				}
				got = append(got, batch...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("streamed %d events, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestStreamDataIsNotShared appends to the Data of every event Stream hands
// over, in every batch, and checks each event's data is still what Read
// answers: the events of a batch share memory for their data, and an event's
// must end where the next one's begins. It reuses batches, as a fold does, and
// keeps only the events' Data.
func TestStreamDataIsNotShared(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	if _, err := l.Append(t.Context(), logtest.MakeEnvelopes("own", 900, 200)); err != nil {
		t.Fatal(err)
	}
	want, err := l.Read(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	var ids []string
	err = Stream(t.Context(), path, StreamOptions{Batch: 100, Lean: true, Reuse: true}, func(batch []event.Envelope) error {
		for i := range batch {
			ids = append(ids, batch[i].ID)
			got = append(got, batch[i].Data)
			_ = append(batch[i].Data, "overwritten"...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("streamed %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if ids[i] != want[i].ID || string(got[i]) != string(want[i].Data) {
			t.Fatalf("event %d: id %s data %q, want %s %q", i, ids[i], got[i], want[i].ID, want[i].Data)
		}
	}
}

// TestStreamStopsAndFails checks Stream returns the callback's error at
// once, names a missing file, refuses a file that is not an event log, and
// creates nothing.
func TestStreamStopsAndFails(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	if _, err := l.Append(t.Context(), logtest.MakeEnvelopes("x", 3000, 16)); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	for _, readers := range []int{1, 2} {
		calls := 0
		err := Stream(t.Context(), path, StreamOptions{Batch: 100, Readers: readers}, func([]event.Envelope) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Stream with %d readers after the callback failed: %v, %d calls", readers, err, calls)
		}
	}

	missing := filepath.Join(t.TempDir(), "events.db")
	if err := Stream(t.Context(), missing, StreamOptions{}, func([]event.Envelope) error { return nil }); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE other (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, readers := range []int{1, 2} {
		if err := Stream(t.Context(), other, StreamOptions{Readers: readers}, func([]event.Envelope) error { return nil }); err == nil || !strings.Contains(err.Error(), "not a Backlot event log") {
			t.Errorf("a file without events, %d readers: %v", readers, err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := Stream(ctx, path, StreamOptions{Readers: readers}, func([]event.Envelope) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("a done context, %d readers: %v", readers, err)
		}
	}
}

// TestStreamReadsAnEmptyLog checks Stream calls nothing on a log without
// events, with one reader or more.
func TestStreamReadsAnEmptyLog(t *testing.T) {
	t.Parallel()
	_, path := openTemp(t, Options{})
	for _, readers := range []int{1, 2} {
		calls := 0
		if err := Stream(t.Context(), path, StreamOptions{Readers: readers}, func([]event.Envelope) error {
			calls++
			return nil
		}); err != nil || calls != 0 {
			t.Errorf("%d readers: %v, %d calls", readers, err, calls)
		}
	}
}

// TestStreamReadsFewerRangesThanReaders checks Stream with more readers
// than ranges of positions reads every event and fails on none: a reader
// without a range must not be left to fail on the cancellation that ends
// the stream (audit replay --readers 2 on a short log did).
func TestStreamReadsFewerRangesThanReaders(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	if _, err := l.Append(t.Context(), logtest.MakeEnvelopes("s", 5, 16)); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		n := 0
		if err := Stream(t.Context(), path, StreamOptions{Readers: 4}, func(b []event.Envelope) error {
			n += len(b)
			return nil
		}); err != nil || n != 5 {
			t.Fatalf("stream %d: %v, %d events, want 5", i, err, n)
		}
	}
}

// TestStreamSkipsTheDataOfTypes checks Stream hands over the events of the
// types StreamOptions.SkipData names without their data, and every other
// event whole, with one reader or more, before an instant or not.
func TestStreamSkipsTheDataOfTypes(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	evs := logtest.MakeEnvelopes("s", 1500, 64)
	for i := range evs {
		switch i % 3 {
		case 1:
			evs[i].Type = string(event.TypeBadgeAwarded)
		case 2:
			evs[i].Type = string(event.TypeFactsReported)
		}
	}
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	skip := []string{string(event.TypeBadgeAwarded), string(event.TypeFactsReported)}
	for _, tt := range []struct {
		name string
		opts StreamOptions
		n    int
	}{
		{"one reader", StreamOptions{Batch: 300, Lean: true, SkipData: skip}, 1500},
		{"one reader before an instant", StreamOptions{Lean: true, SkipData: skip, Before: evs[1234].Time}, 1234},
		{"every attribute", StreamOptions{SkipData: skip[:1]}, 1500},
		{"two readers", StreamOptions{Batch: 128, Readers: 2, Lean: true, SkipData: skip}, 1500},
		{"two readers before an instant", StreamOptions{Batch: 128, Readers: 2, SkipData: skip[1:], Before: evs[1234].Time}, 1234},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []event.Envelope
			if err := Stream(t.Context(), path, tt.opts, func(b []event.Envelope) error {
				got = append(got, b...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("streamed %d events, want %d", len(got), tt.n)
			}
			for i, e := range got {
				if e.ID != evs[i].ID || e.Type != evs[i].Type {
					t.Fatalf("event %d is %s (%s), want %s (%s)", i, e.ID, e.Type, evs[i].ID, evs[i].Type)
				}
				skipped := slices.Contains(tt.opts.SkipData, e.Type)
				if skipped && e.Data != nil || !skipped && string(e.Data) != string(evs[i].Data) {
					t.Fatalf("event %d (%s): data %q, skipped %v", i, e.Type, e.Data, skipped)
				}
			}
		})
	}
}
