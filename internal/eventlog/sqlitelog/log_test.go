package sqlitelog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// openTemp opens a Log on a new file in t's temporary directory and closes it when t
// ends. It returns the Log and the file's path.
func openTemp(t *testing.T, opts Options) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	return openAt(t, path, opts), path
}

// openAt opens a Log on path and closes it when t ends.
func openAt(t *testing.T, path string, opts Options) *Log {
	t.Helper()
	l, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, event.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func TestContract(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"one reader, no mmap, full sync", Options{ReadConns: 1, MmapSize: -1, FullSync: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logtest.Run(t, func(t *testing.T) event.Log {
				l, _ := openTemp(t, tt.opts)
				return l
			})
		})
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       Options
		wantSync   int // 1 NORMAL, 2 FULL
		wantMmap   int64
		wantBusyMs int
	}{
		{"defaults", Options{}, 1, 256 << 20, 5000},
		{"full sync, no mmap", Options{FullSync: true, MmapSize: -1, BusyTimeout: 1500 * time.Millisecond}, 2, 0, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := openTemp(t, tt.opts)
			var mode string
			var syncMode, busy, queryOnly int
			var mmap int64
			w := l.wdb.QueryRow
			if err := w(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
			if err := w(`PRAGMA synchronous`).Scan(&syncMode); err != nil || syncMode != tt.wantSync {
				t.Errorf("synchronous = %d, %v; want %d", syncMode, err, tt.wantSync)
			}
			if err := w(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != tt.wantBusyMs {
				t.Errorf("writer busy_timeout = %d, %v; want %d", busy, err, tt.wantBusyMs)
			}
			var spill int
			if err := w(`PRAGMA cache_spill`).Scan(&spill); err != nil || spill != writeSpillPages {
				t.Errorf("writer cache_spill = %d, %v; want %d pages", spill, err, writeSpillPages)
			}
			r := l.rdb.QueryRow
			if err := r(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != tt.wantBusyMs {
				t.Errorf("reader busy_timeout = %d, %v; want %d", busy, err, tt.wantBusyMs)
			}
			if err := r(`PRAGMA query_only`).Scan(&queryOnly); err != nil || queryOnly != 1 {
				t.Errorf("reader query_only = %d, %v; want 1", queryOnly, err)
			}
			if err := r(`PRAGMA mmap_size`).Scan(&mmap); err != nil || mmap != tt.wantMmap {
				t.Errorf("reader mmap_size = %d, %v; want %d", mmap, err, tt.wantMmap)
			}
			var cache int
			if err := r(`PRAGMA cache_size`).Scan(&cache); err != nil || cache != -1024 {
				t.Errorf("reader cache_size = %d, %v; want -1024 (KiB)", cache, err)
			}
			if _, err := l.rdb.Exec(`DELETE FROM events`); err == nil {
				t.Error("a read connection could write")
			}
		})
	}
}

func TestDuplicateIDError(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	ctx := t.Context()
	first := logtest.MakeEnvelopes("first", 1, 64)
	if _, err := l.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	inBatch := logtest.MakeEnvelopes("in-batch", 2, 64)
	inBatch[1].ID = inBatch[0].ID
	inLog := logtest.MakeEnvelopes("in-log", 2, 64)
	inLog[1].ID = first[0].ID
	for _, tt := range []struct {
		name  string
		batch []event.Envelope
	}{
		{"repeated in the batch", inBatch},
		{"already in the log", inLog},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Append(ctx, tt.batch)
			if !errors.Is(err, event.ErrDuplicateID) {
				t.Fatalf("Append = %v, want event.ErrDuplicateID", err)
			}
			if !strings.Contains(err.Error(), tt.batch[1].ID) {
				t.Errorf("error %q does not name the id %s", err, tt.batch[1].ID)
			}
		})
	}
	if n, err := l.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
}

func TestAppendRejects(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	tests := []struct {
		name    string
		corrupt func(e *event.Envelope)
		want    string
	}{
		{"time before 1678", func(e *event.Envelope) { e.Time = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside"},
		{"time after 2262", func(e *event.Envelope) { e.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside"},
		{"NUL in subject", func(e *event.Envelope) { e.Subject = "component:default/a\x00b" }, "subject holds a NUL"},
		{"NUL in actor", func(e *event.Envelope) { e.Actor = "\x00" }, "actor holds a NUL"},
		{"NUL in correlation id", func(e *event.Envelope) { e.CorrelationID = "x\x00" }, "correlationid holds a NUL"},
		{"invalid envelope", func(e *event.Envelope) { e.Type = "" }, "type is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := logtest.MakeEnvelopes("r", 3, 64)
			tt.corrupt(&evs[2])
			_, err := l.Append(t.Context(), evs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Append = %v, want an error containing %q", err, tt.want)
			}
			if n, err := l.Count(t.Context()); err != nil || n != 0 {
				t.Fatalf("Count = %d, %v after a rejected append; want 0", n, err)
			}
		})
	}
}

func TestAttributesRoundTrip(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	evs := logtest.MakeEnvelopes("a", 3, 64)
	evs[0].Subject = "component:default/caf\u00e9-\U0001F680 'quoted' \"double\" | ; -- x"
	evs[0].Actor = "user:default/\u00fcber"
	evs[1].Source, evs[1].DataSchema = "urn:x:\x01\x1f\x7f", ""
	evs[2].Commit, evs[2].CorrelationID, evs[2].DataContentType = "", "", ""
	evs[2].Data = []byte{0xff, 0x00, 0xfe} // not JSON and not UTF-8: stored as given
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	got, err := l.Read(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if d := logtest.Diff(evs[i], got[i]); d != "" {
			t.Error(d)
		}
	}
}

func TestWaitWakesAtOnceOnInProcessAppend(t *testing.T) {
	t.Parallel()
	// A poll interval of an hour: only the in-process notification can wake Wait.
	l, _ := openTemp(t, Options{PollInterval: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	woke := make(chan int64, 1)
	go func() {
		head, err := l.Wait(ctx, 0)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		woke <- head
	}()
	time.Sleep(20 * time.Millisecond)
	appended := time.Now()
	if _, err := l.Append(ctx, logtest.MakeEnvelopes("a", 1, 64)); err != nil {
		t.Fatal(err)
	}
	if head := <-woke; head != 1 {
		t.Fatalf("Wait = %d, want 1", head)
	}
	t.Logf("woke %s after Append started", time.Since(appended))
}

func TestWaitNoticesAnotherLogOnTheSameFile(t *testing.T) {
	t.Parallel()
	a, path := openTemp(t, Options{PollInterval: 20 * time.Millisecond})
	b := openAt(t, path, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	woke := make(chan int64, 1)
	go func() {
		head, err := a.Wait(ctx, 0)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		woke <- head
	}()
	time.Sleep(50 * time.Millisecond)
	evs := logtest.MakeEnvelopes("b", 3, 64)
	if _, err := b.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if head := <-woke; head != 3 {
		t.Fatalf("Wait = %d, want 3", head)
	}
	got, err := a.Read(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if d := logtest.Diff(evs[i], got[i]); d != "" {
			t.Fatal(d)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []event.Envelope
	for i := range 5 {
		batch := logtest.MakeEnvelopes(fmt.Sprint(i), 20, 300)
		if _, err := l.Append(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	l = openAt(t, path, Options{})
	got, err := l.Read(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("reopened log has %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if d := logtest.Diff(want[i], got[i]); d != "" {
			t.Fatal(d)
		}
	}
	// Positions continue after the reopened head.
	next := logtest.MakeEnvelopes("next", 1, 64)
	if last, err := l.Append(t.Context(), next); err != nil || last != int64(len(want)+1) {
		t.Fatalf("Append after reopen = %d, %v; want %d", last, err, len(want)+1)
	}
	var versions int
	if err := l.rdb.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if ms, _ := loadMigrations(); versions != len(ms) {
		t.Fatalf("schema_version has %d rows, want %d (one per migration)", versions, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	l, path := openTemp(t, Options{})
	if _, err := l.wdb.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v, want an error saying it is newer", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts Options
		want string
	}{
		{"empty path", "", Options{}, "path is empty"},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "events.db"), Options{}, "open"},
		{"a directory", dir, Options{}, "open"},
		{"invalid options", filepath.Join(dir, "x.db"), Options{ReadConns: -1}, "ReadConns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := Open(tt.path, tt.opts)
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "we?ird#name%20 x.db")
	l := openAt(t, path, Options{})
	if _, err := l.Append(t.Context(), logtest.MakeEnvelopes("p", 1, 64)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openAt(t, path, Options{})
	if n, err := l.Count(t.Context()); err != nil || n != 1 {
		t.Fatalf("Count after reopening %q = %d, %v; want 1", path, n, err)
	}
}

func TestTwoLogsAppendConcurrently(t *testing.T) {
	t.Parallel()
	a, path := openTemp(t, Options{})
	b := openAt(t, path, Options{})
	const batches, size = 20, 10
	var wg sync.WaitGroup
	for i, l := range []*Log{a, b} {
		wg.Go(func() {
			for j := range batches {
				if _, err := l.Append(t.Context(), logtest.MakeEnvelopes(fmt.Sprint(i, j), size, 64)); err != nil {
					t.Errorf("log %d batch %d: %v", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
	evs, err := a.Read(t.Context(), 0, 10*batches*size)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2*batches*size {
		t.Fatalf("read %d events, want %d", len(evs), 2*batches*size)
	}
	for i, e := range evs {
		if e.Position != int64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Position)
		}
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	for i, n := range []int{0, 3, 7} {
		if n > 0 {
			if _, err := l.Append(t.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), n, 64)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := l.Count(t.Context()); err != nil || n != 10 {
		t.Fatalf("Count = %d, %v; want 10", n, err)
	}
	l.Close()
	if _, err := l.Count(t.Context()); !errors.Is(err, event.ErrClosed) {
		t.Fatalf("Count after Close = %v, want event.ErrClosed", err)
	}
	if _, err := l.ReadFiltered(t.Context(), 0, 0, Filter{}); !errors.Is(err, event.ErrClosed) {
		t.Fatalf("ReadFiltered after Close = %v, want event.ErrClosed", err)
	}
}

func TestConcurrentOpenOfANewFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	const n = 4
	logs := make([]*Log, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { logs[i], errs[i] = Open(path, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { logs[i].Close() })
	}
	var versions int
	if err := logs[0].rdb.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if ms, _ := loadMigrations(); versions != len(ms) {
		t.Fatalf("schema_version has %d rows, want %d", versions, len(ms))
	}
}

// TestReadDataIsNotShared guards driverBytes: every event of a batch must own its Data.
func TestReadDataIsNotShared(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	evs := logtest.MakeEnvelopes("own", 50, 300)
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() ([]event.Envelope, error){
		func() ([]event.Envelope, error) { return l.Read(t.Context(), 0, 100) },
		func() ([]event.Envelope, error) { return l.ReadFiltered(t.Context(), 0, 100, Filter{}) },
	} {
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		seen := make(map[*byte]int)
		for i, e := range got {
			if d := logtest.Diff(evs[i], e); d != "" {
				t.Fatal(d)
			}
			if j, dup := seen[&e.Data[0]]; dup {
				t.Fatalf("events %d and %d share their Data memory", j, i)
			}
			seen[&e.Data[0]] = i
		}
	}
}

// TestAppendOfManyStatements appends a batch that takes INSERT statements of
// several sizes (203 = 3×64 + 8 + 2 + 1): each event gets the position its
// row was written at, the chain verifies, and an id already in the log in
// the third statement is named and leaves nothing written.
func TestAppendOfManyStatements(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	ctx := t.Context()
	first := logtest.MakeEnvelopes("first", 5, 64)
	if _, err := l.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	batch := logtest.MakeEnvelopes("many", 3*maxRowsPerInsert+11, 64)
	last, err := l.Append(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(first) + len(batch)); last != want {
		t.Fatalf("Append = %d, want %d", last, want)
	}
	got, err := l.Read(ctx, first[len(first)-1].Position, len(batch)+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Fatalf("Read %d events, want %d", len(got), len(batch))
	}
	for i := range batch {
		if d := logtest.Diff(batch[i], got[i]); d != "" {
			t.Fatalf("event %d of the batch: %s", i+1, d)
		}
	}
	rep, err := l.Verify(ctx, VerifyOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}

	dup := logtest.MakeEnvelopes("dup", 3*maxRowsPerInsert+11, 64)
	dup[2*maxRowsPerInsert+7].ID = batch[9].ID
	_, err = l.Append(ctx, dup)
	if !errors.Is(err, event.ErrDuplicateID) {
		t.Fatalf("Append = %v, want event.ErrDuplicateID", err)
	}
	if want := fmt.Sprintf("%q (event %d of %d)", batch[9].ID, 2*maxRowsPerInsert+8, len(dup)); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	if head, err := l.Head(ctx); err != nil || head != last {
		t.Fatalf("Head = %d, %v after a failed append; want %d", head, err, last)
	}
	for i := range dup {
		if dup[i].Position != 0 {
			t.Fatalf("event %d of the failed batch has position %d", i+1, dup[i].Position)
		}
	}
	// The failed insert rolled the transaction back: the next append
	// starts its own and continues the positions and the chain.
	again := logtest.MakeEnvelopes("again", maxRowsPerInsert+1, 64)
	if next, err := l.Append(ctx, again); err != nil || next != last+int64(len(again)) {
		t.Fatalf("Append after the failed one = %d, %v; want %d", next, err, last+int64(len(again)))
	}
	if again[0].Position != last+1 {
		t.Fatalf("first event after the failed append at %d, want %d", again[0].Position, last+1)
	}
	if rep, err := l.Verify(ctx, VerifyOptions{}); err != nil || !rep.OK() {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}
