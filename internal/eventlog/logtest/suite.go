package logtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// Features lists guarantees an adapter gives beyond the event.Log port. The suite
// checks each one that is set and skips the cases of the others.
type Features struct {
	// UniqueIDs: the adapter keeps an index of event IDs, and Append fails with
	// event.ErrDuplicateID, writing nothing, when an event's ID is already in the log.
	// Without it, such an event is stored again (event.ErrDuplicateID says why the
	// port allows both). An ID repeated within one batch is refused by every adapter.
	UniqueIDs bool
	// GapFree: positions are 1, 2, 3, … without gaps, also after failed appends, and
	// the events of one append get consecutive positions.
	GapFree bool
	// WaitTimeout bounds how long the suite waits for Wait to observe an append made
	// through the same Log; zero means 5s.
	WaitTimeout time.Duration
}

// Run runs the contract suite with every feature of Features required, which is what
// the embedded log guarantees. An adapter that lacks a feature calls RunFeatures.
func Run(t *testing.T, open func(t *testing.T) event.Log) {
	RunFeatures(t, Features{UniqueIDs: true, GapFree: true}, open)
}

// RunFeatures runs the contract suite as parallel subtests of t, each on its own Log
// that open returns. open must return an empty, open log and arrange for it to be
// closed when its test ends; some cases close the log themselves first, so that later
// Close may return event.ErrClosed, which the cleanup should ignore.
func RunFeatures(t *testing.T, f Features, open func(t *testing.T) event.Log) {
	t.Helper()
	if f.WaitTimeout == 0 {
		f.WaitTimeout = 5 * time.Second
	}
	cases := []struct {
		name string
		skip bool
		run  func(t *testing.T, f Features, l event.Log)
	}{
		{name: "EmptyLog", run: testEmptyLog},
		{name: "AppendAssignsIncreasingPositions", run: testAppendAssignsPositions},
		{name: "AppendNothingReturnsHead", run: testAppendNothingReturnsHead},
		{name: "RoundTrip", run: testRoundTrip},
		{name: "AppendAndReadCopyData", run: testCopiesData},
		{name: "ReadInBatches", run: testReadInBatches},
		{name: "ReadDefaultLimit", run: testReadDefaultLimit},
		{name: "InvalidEnvelopeWritesNothing", run: testInvalidEnvelope},
		{name: "CancelledAppendWritesNothing", run: testCancelledAppend},
		{name: "RepeatedIDInBatchWritesNothing", run: testRepeatedIDInBatch},
		{name: "RetriedAppendIsWrittenOrRefused", run: testRetriedAppend},
		{name: "DuplicateIDWritesNothing", skip: !f.UniqueIDs, run: testDuplicateID},
		{name: "WaitReturnsAtOnceWhenAhead", run: testWaitAhead},
		{name: "WaitWakesOnAppend", run: testWaitWakes},
		{name: "WaitEndsWithContext", run: testWaitContext},
		{name: "ConcurrentAppendsTotalOrder", run: testConcurrentAppends},
		{name: "Closed", run: testClosed},
	}
	for _, c := range cases {
		if c.skip {
			continue // the adapter does not promise this feature
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, f, open(t))
		})
	}
}

func testEmptyLog(t *testing.T, _ Features, l event.Log) {
	ctx := t.Context()
	if head := mustHead(t, l); head != 0 {
		t.Errorf("Head of an empty log = %d, want 0", head)
	}
	evs, err := l.Read(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(evs) != 0 {
		t.Errorf("Read of an empty log returned %d events", len(evs))
	}
	for _, batch := range [][]event.Envelope{nil, {}} {
		last, err := l.Append(ctx, batch)
		if err != nil || last != 0 {
			t.Errorf("Append(%#v) = %d, %v; want 0, nil", batch, last, err)
		}
	}
}

func testAppendAssignsPositions(t *testing.T, f Features, l event.Log) {
	var prev int64
	for i, size := range []int{1, 3, 5, 2} {
		batch := MakeEnvelopes(fmt.Sprint("batch", i), size, 64)
		last := mustAppend(t, l, batch)
		for j, e := range batch {
			if e.Position <= prev {
				t.Fatalf("batch %d event %d: Position = %d, not after %d", i, j, e.Position, prev)
			}
			if f.GapFree && e.Position != prev+1 {
				t.Fatalf("batch %d event %d: Position = %d, want %d (gap-free)", i, j, e.Position, prev+1)
			}
			prev = e.Position
		}
		if last != prev {
			t.Fatalf("batch %d: Append returned %d, last event has position %d", i, last, prev)
		}
		if head := mustHead(t, l); head != last {
			t.Fatalf("batch %d: Head = %d after Append returned %d", i, head, last)
		}
	}
}

func testAppendNothingReturnsHead(t *testing.T, _ Features, l event.Log) {
	last := mustAppend(t, l, MakeEnvelopes("a", 4, 64))
	got, err := l.Append(t.Context(), nil)
	if err != nil || got != last {
		t.Fatalf("Append(nil) = %d, %v; want %d, nil", got, err, last)
	}
}

func testRoundTrip(t *testing.T, _ Features, l event.Log) {
	evs := MakeEnvelopes("rt", 6, 100)
	// Optional attributes absent.
	evs[1].DataSchema, evs[1].Actor, evs[1].Commit, evs[1].CorrelationID, evs[1].DataContentType = "", "", "", "", ""
	// A time in another zone and with nanoseconds.
	evs[2].Time = time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600))
	// Data with escapes, non-ASCII text, a NUL escape and insignificant white space kept as is.
	evs[3].Data = []byte("{ \"s\" : \"caf\u00e9 \\u0000 \\\"q\\\" \U0001F680\",\n\t\"n\": 1.50e3 }")
	// Large data.
	evs[4].Data = MakeEnvelopes("big", 1, 256<<10)[0].Data
	// Minimal data.
	evs[5].Data = []byte("null")
	mustAppend(t, l, evs)
	got, err := l.Read(t.Context(), 0, len(evs)+10)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != len(evs) {
		t.Fatalf("Read returned %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if d := Diff(evs[i], got[i]); d != "" {
			t.Errorf("event %d: %s", i, d)
		}
	}
}

func testCopiesData(t *testing.T, _ Features, l event.Log) {
	ctx := t.Context()
	evs := MakeEnvelopes("copy", 2, 32)
	want := string(evs[0].Data)
	mustAppend(t, l, evs)
	for i := range evs[0].Data {
		evs[0].Data[i] = 'z'
	}
	got, err := l.Read(ctx, 0, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Read = %d events, %v", len(got), err)
	}
	if string(got[0].Data) != want {
		t.Fatalf("Data changed by the caller after Append: got %q, want %q", got[0].Data, want)
	}
	for i := range got[0].Data {
		got[0].Data[i] = 'z'
	}
	again, err := l.Read(ctx, 0, 1)
	if err != nil || len(again) != 1 {
		t.Fatalf("Read = %d events, %v", len(again), err)
	}
	if string(again[0].Data) != want {
		t.Fatalf("Data changed by the caller after Read: got %q, want %q", again[0].Data, want)
	}
}

func testReadInBatches(t *testing.T, _ Features, l event.Log) {
	ctx := t.Context()
	var all []event.Envelope
	for i, size := range []int{4, 9, 1, 11} {
		batch := MakeEnvelopes(fmt.Sprint("b", i), size, 64)
		mustAppend(t, l, batch)
		all = append(all, batch...)
	}
	tests := []struct {
		name  string
		after int64
		limit int
		want  []event.Envelope
	}{
		{name: "from start", after: 0, limit: 7, want: all[:7]},
		{name: "from the middle", after: all[9].Position, limit: 5, want: all[10:15]},
		{name: "limit past the end", after: all[20].Position, limit: 100, want: all[21:]},
		{name: "after the head", after: all[len(all)-1].Position, limit: 10, want: nil},
		{name: "far after the head", after: all[len(all)-1].Position + 1000, limit: 10, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Read(ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("Read(%d, %d): %v", tt.after, tt.limit, err)
			}
			assertSame(t, tt.want, got)
		})
	}
	t.Run("paging reads everything once", func(t *testing.T) {
		assertSame(t, all, readAll(t, l, 0, 7))
	})
}

func testReadDefaultLimit(t *testing.T, _ Features, l event.Log) {
	evs := MakeEnvelopes("d", 3, 64)
	mustAppend(t, l, evs)
	for _, limit := range []int{0, -1} {
		got, err := l.Read(t.Context(), 0, limit)
		if err != nil {
			t.Fatalf("Read(0, %d): %v", limit, err)
		}
		assertSame(t, evs, got)
	}
}

func testInvalidEnvelope(t *testing.T, f Features, l event.Log) {
	ctx := t.Context()
	before := mustAppend(t, l, MakeEnvelopes("ok", 2, 64))
	tests := []struct {
		name    string
		corrupt func(e *event.Envelope)
	}{
		{"missing id", func(e *event.Envelope) { e.ID = "" }},
		{"missing source", func(e *event.Envelope) { e.Source = "" }},
		{"wrong specversion", func(e *event.Envelope) { e.SpecVersion = "0.3" }},
		{"missing type", func(e *event.Envelope) { e.Type = "" }},
		{"missing subject", func(e *event.Envelope) { e.Subject = "" }},
		{"zero time", func(e *event.Envelope) { e.Time = time.Time{} }},
		{"missing data", func(e *event.Envelope) { e.Data = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := MakeEnvelopes("bad", 3, 64)
			tt.corrupt(&batch[1])
			if _, err := l.Append(ctx, batch); err == nil {
				t.Fatal("Append of an invalid envelope succeeded")
			}
			for i, e := range batch {
				if e.Position != 0 {
					t.Errorf("event %d got Position %d from a failed append", i, e.Position)
				}
			}
			if head := mustHead(t, l); head != before {
				t.Fatalf("Head = %d after a failed append, want %d", head, before)
			}
		})
	}
	// The log still works, and with GapFree the failures left no gap.
	next := MakeEnvelopes("after", 1, 64)
	last := mustAppend(t, l, next)
	if f.GapFree && last != before+1 {
		t.Fatalf("Append after failed appends got position %d, want %d", last, before+1)
	}
}

func testCancelledAppend(t *testing.T, _ Features, l event.Log) {
	before := mustAppend(t, l, MakeEnvelopes("ok", 2, 64))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Append(ctx, MakeEnvelopes("cancelled", 3, 64)); err == nil {
		t.Fatal("Append with a cancelled context succeeded")
	}
	if head := mustHead(t, l); head != before {
		t.Fatalf("Head = %d after a cancelled append, want %d", head, before)
	}
}

func testDuplicateID(t *testing.T, f Features, l event.Log) {
	ctx := t.Context()
	first := MakeEnvelopes("first", 2, 64)
	before := mustAppend(t, l, first)

	t.Run("within the batch", func(t *testing.T) {
		batch := MakeEnvelopes("dup", 3, 64)
		batch[2].ID = batch[0].ID
		if _, err := l.Append(ctx, batch); err == nil {
			t.Fatal("Append with an ID repeated in the batch succeeded")
		} else if !errors.Is(err, event.ErrDuplicateID) {
			t.Fatalf("Append with an ID repeated in the batch = %v, want event.ErrDuplicateID", err)
		}
		if head := mustHead(t, l); head != before {
			t.Fatalf("Head = %d after a failed append, want %d", head, before)
		}
	})
	t.Run("already in the log", func(t *testing.T) {
		batch := MakeEnvelopes("dup", 3, 64)
		batch[2].ID = first[1].ID
		if _, err := l.Append(ctx, batch); err == nil {
			t.Fatal("Append with an ID already in the log succeeded")
		} else if !errors.Is(err, event.ErrDuplicateID) {
			t.Fatalf("Append with an ID already in the log = %v, want event.ErrDuplicateID", err)
		}
		if head := mustHead(t, l); head != before {
			t.Fatalf("Head = %d after a failed append, want %d", head, before)
		}
		// The batch's other events were not written: they can be appended now.
		last := mustAppend(t, l, batch[:2])
		if f.GapFree && last != before+2 {
			t.Fatalf("Append after the failed one ended at %d, want %d", last, before+2)
		}
	})
	assertSame(t, first, readAll(t, l, 0, 100)[:2])
}

// testRepeatedIDInBatch: every adapter refuses a batch holding one ID twice with
// event.ErrDuplicateID and writes none of it.
func testRepeatedIDInBatch(t *testing.T, f Features, l event.Log) {
	ctx := t.Context()
	before := mustAppend(t, l, MakeEnvelopes("ok", 2, 64))
	batch := MakeEnvelopes("dup", 4, 64)
	batch[3].ID = batch[1].ID
	_, err := l.Append(ctx, batch)
	if !errors.Is(err, event.ErrDuplicateID) {
		t.Fatalf("Append with an ID repeated in the batch = %v, want event.ErrDuplicateID", err)
	}
	for i, e := range batch {
		if e.Position != 0 {
			t.Errorf("event %d got Position %d from a refused append", i, e.Position)
		}
	}
	if head := mustHead(t, l); head != before {
		t.Fatalf("Head = %d after a refused append, want %d", head, before)
	}
	last := mustAppend(t, l, batch[:3])
	if f.GapFree && last != before+3 {
		t.Fatalf("Append after the refused one ended at %d, want %d", last, before+3)
	}
}

// testRetriedAppend appends a batch again with the same IDs, as a writer does
// after losing the first answer: every adapter either refuses the whole retry
// with event.ErrDuplicateID (UniqueIDs) or stores it again, never fails it
// otherwise, so that the writer can take ErrDuplicateID as "written already".
func testRetriedAppend(t *testing.T, f Features, l event.Log) {
	ctx := t.Context()
	first := MakeEnvelopes("retry", 3, 64)
	before := mustAppend(t, l, first)
	retry := make([]event.Envelope, len(first))
	for i, e := range first {
		e.Position, e.Partition = 0, 0
		retry[i] = e
	}
	last, err := l.Append(ctx, retry)
	switch {
	case errors.Is(err, event.ErrDuplicateID):
		if head := mustHead(t, l); head != before {
			t.Fatalf("Head = %d after a refused retry, want %d", head, before)
		}
	case err != nil:
		t.Fatalf("retried Append = %v, want nil or event.ErrDuplicateID", err)
	case f.UniqueIDs:
		t.Fatalf("retried Append stored the events again at %d, want event.ErrDuplicateID (UniqueIDs)", last)
	default:
		if last <= before {
			t.Fatalf("retried Append stored at %d, not after %d", last, before)
		}
		got := readAll(t, l, before, 10)
		if len(got) != len(retry) {
			t.Fatalf("read %d events after the retry, want %d", len(got), len(retry))
		}
		for i := range retry {
			if d := Diff(retry[i], got[i]); d != "" {
				t.Fatalf("retried event %d: %s", i, d)
			}
		}
	}
	assertSame(t, first, readAll(t, l, 0, 100)[:len(first)])
}

func testWaitAhead(t *testing.T, f Features, l event.Log) {
	last := mustAppend(t, l, MakeEnvelopes("w", 2, 64))
	ctx, cancel := context.WithTimeout(t.Context(), f.WaitTimeout)
	defer cancel()
	for _, after := range []int64{0, last - 1} {
		head, err := l.Wait(ctx, after)
		if err != nil || head != last {
			t.Fatalf("Wait(%d) = %d, %v; want %d, nil", after, head, err, last)
		}
	}
}

func testWaitWakes(t *testing.T, f Features, l event.Log) {
	start := mustAppend(t, l, MakeEnvelopes("w", 1, 64))
	ctx, cancel := context.WithTimeout(t.Context(), f.WaitTimeout)
	defer cancel()
	type result struct {
		head int64
		err  error
	}
	const waiters = 3
	results := make(chan result, waiters)
	for range waiters {
		go func() {
			head, err := l.Wait(ctx, start)
			results <- result{head, err}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the waiters block; the test passes without it
	last := mustAppend(t, l, MakeEnvelopes("wake", 2, 64))
	for range waiters {
		r := <-results
		if r.err != nil {
			t.Fatalf("Wait(%d) = %v after an append to %d", start, r.err, last)
		}
		if r.head <= start || r.head > last {
			t.Fatalf("Wait(%d) = %d, want a head in (%d, %d]", start, r.head, start, last)
		}
	}
}

func testWaitContext(t *testing.T, _ Features, l event.Log) {
	head := mustAppend(t, l, MakeEnvelopes("w", 1, 64))
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if _, err := l.Wait(ctx, head); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait past its deadline = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(30*time.Millisecond, cancel)
		if _, err := l.Wait(ctx, head); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait cancelled = %v, want context.Canceled", err)
		}
	})
}

func testConcurrentAppends(t *testing.T, f Features, l event.Log) {
	const writers, batches, size = 4, 10, 5
	sent := make([][]event.Envelope, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := MakeEnvelopes(fmt.Sprintf("w%d-b%d", w, b), size, 64)
				if _, err := l.Append(t.Context(), batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				sent[w] = append(sent[w], batch...)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	got := readAll(t, l, 0, 13)
	if len(got) != writers*batches*size {
		t.Fatalf("read %d events, want %d", len(got), writers*batches*size)
	}
	byID := make(map[string]event.Envelope, len(got))
	for i, e := range got {
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("event %d: position %d not after %d", i, e.Position, got[i-1].Position)
		}
		if f.GapFree && e.Position != int64(i+1) {
			t.Fatalf("event %d: position %d, want %d (gap-free)", i, e.Position, i+1)
		}
		if _, dup := byID[e.ID]; dup {
			t.Fatalf("event %s read twice", e.ID)
		}
		byID[e.ID] = e
	}
	for w, evs := range sent {
		for i, e := range evs {
			g, ok := byID[e.ID]
			if !ok {
				t.Fatalf("writer %d event %d (%s) missing", w, i, e.ID)
			}
			if d := Diff(e, g); d != "" {
				t.Fatalf("writer %d event %d: %s", w, i, d)
			}
			if i > 0 && e.Position <= evs[i-1].Position {
				t.Fatalf("writer %d: event %d at %d not after event %d at %d", w, i, e.Position, i-1, evs[i-1].Position)
			}
			if f.GapFree && i%size != 0 && e.Position != evs[i-1].Position+1 {
				t.Fatalf("writer %d: batch not contiguous at event %d", w, i)
			}
		}
	}
}

func testClosed(t *testing.T, f Features, l event.Log) {
	head := mustAppend(t, l, MakeEnvelopes("c", 1, 64))
	blocked := make(chan error, 1)
	go func() {
		_, err := l.Wait(context.Background(), head)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, event.ErrClosed) {
			t.Errorf("Wait blocked during Close = %v, want event.ErrClosed", err)
		}
	case <-time.After(f.WaitTimeout):
		t.Fatal("Wait still blocked after Close")
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { _, err := l.Append(ctx, MakeEnvelopes("c", 1, 64)); return err }},
		{"Append nothing", func() error { _, err := l.Append(ctx, nil); return err }},
		{"Read", func() error { _, err := l.Read(ctx, 0, 10); return err }},
		{"Head", func() error { _, err := l.Head(ctx); return err }},
		{"Wait", func() error { _, err := l.Wait(ctx, 0); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, event.ErrClosed) {
			t.Errorf("%s after Close = %v, want event.ErrClosed", c.name, err)
		}
	}
	if err := l.Close(); err != nil && !errors.Is(err, event.ErrClosed) {
		t.Errorf("second Close = %v, want nil or event.ErrClosed", err)
	}
}

func mustAppend(t *testing.T, l event.Log, evs []event.Envelope) int64 {
	t.Helper()
	last, err := l.Append(t.Context(), evs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return last
}

func mustHead(t *testing.T, l event.Log) int64 {
	t.Helper()
	head, err := l.Head(t.Context())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return head
}

// readAll reads every event after after, limit at a time.
func readAll(t *testing.T, l event.Log, after int64, limit int) []event.Envelope {
	t.Helper()
	var all []event.Envelope
	for {
		evs, err := l.Read(t.Context(), after, limit)
		if err != nil {
			t.Fatalf("Read(%d, %d): %v", after, limit, err)
		}
		if len(evs) > limit {
			t.Fatalf("Read(%d, %d) returned %d events", after, limit, len(evs))
		}
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Position
	}
}

// assertSame fails t unless got holds the events of want, in order, positions included.
func assertSame(t *testing.T, want, got []event.Envelope) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if d := Diff(want[i], got[i]); d != "" {
			t.Fatalf("event %d: %s", i, d)
		}
	}
}
