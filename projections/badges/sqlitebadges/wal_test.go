package sqlitebadges_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
)

// walFrames is the number of frames in the write-ahead log of the SQLite file
// at path (mxFrame of the wal-index header in the -shm file), as a reader
// would see it now: 0 once the log started over.
func walFrames(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 20 {
		t.Fatalf("wal-index of %d bytes", len(b))
	}
	return binary.LittleEndian.Uint32(b[16:20])
}

// TestTheLogStartsOverAfterACatchUpWhileReadersRead: a catch-up far over the
// autocheckpoint threshold, folded while readers keep reading (the
// evaluator's pages, the API's polls), leaves a write-ahead log that SQLite
// starts over only after a checkpoint copied all of it while no reader read
// its frames. With readers always at work, the checkpoint after a commit
// never copies that commit's frames, the log stays over the threshold, and
// every later commit (an edit's verdict) runs a checkpoint of its own. The
// store starts the log over itself: a few small writes after the catch-up
// leave it short, readers reading all the while.
func TestTheLogStartsOverAfterACatchUpWhileReadersRead(t *testing.T) {
	const pages = 40 // 160 KB of log; the catch-up writes about twenty times that
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "badges.db")
	s, err := sqlitebadges.OpenCheckpointingEvery(path, pages)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := foldEvents(t, 1000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			keys := make([]string, 50)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for j := range keys {
					keys[j] = fmt.Sprintf("component:default/c-%06d", (i*50+j+r*500)%1000)
				}
				if _, err := s.VerdictsOf(ctx, keys); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	last := len(evs) - 400
	for i := 0; i < last; i += 200 {
		if err := s.Apply(ctx, evs[i:min(i+200, last)]); err != nil {
			t.Fatal(err)
		}
	}
	// A reader holds the frames of the catch-up's last batch, so it ends
	// with the log over the threshold whatever the timing of the others.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM badge_changes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, evs[last:]); err != nil {
		t.Fatal(err)
	}
	if n := walFrames(t, path); n <= pages {
		t.Fatalf("log after the catch-up: %d frames, not over the threshold of %d: the test shows nothing", n, pages)
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	// Ten edits, one fact each, folded while the readers read.
	pos := int64(len(evs))
	var frames []uint32
	for i := range 10 {
		pos++
		ev, err := event.New(event.TypeFactsReported, "component:default/c-000001", event.FactsReported{Entity: "component:default/c-000001", Source: "ci",
			Facts: []byte(fmt.Sprintf(`{"coverage": %d}`, i))}, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = pos
		if err := s.Apply(ctx, []event.Envelope{ev}); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, walFrames(t, path))
	}
	if last := frames[len(frames)-1]; last > pages {
		t.Errorf("log after ten edits: %d frames (after each: %v), over the threshold of %d: it never started over", last, frames, pages)
	}
}
