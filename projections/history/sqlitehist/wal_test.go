package sqlitehist_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
	"backlot.dev/backlot/projections/storekit/sqlitewal"
)

// walSize is the size of the write-ahead log of the SQLite file at path.
func walSize(t *testing.T, path string) int64 {
	t.Helper()
	size, err := sqlitewal.LogSize(path)
	if err != nil {
		t.Fatal(err)
	}
	return size
}

// openWithHistory opens a store on a fresh file of the test's folder and
// applies n generated events to it, in batches of 500 as dev's projector
// folds them.
func openWithHistory(t *testing.T, n int) (*sqlitehist.Store, string, []event.Envelope) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	evs := histtest.Generate(t, 7, n)
	histtest.ApplyInBatches(t, s, evs, 500)
	return s, path, evs
}

// TestBuildingTheCatalogRowsEndsWithTheLogStartedOver: KeepCatalogRows,
// which writes the catalog rows of every version and their indexes in one
// transaction, leaves an empty write-ahead log. At 100,000 entities the
// build's log was 400 MB, which stayed on disk, and when a reader held the
// versions before it, a later fold of the history copied all of it in its
// commit's checkpoint (2.9-4.2 s instead of 4-18 ms).
func TestBuildingTheCatalogRowsEndsWithTheLogStartedOver(t *testing.T) {
	t.Parallel()
	s, path, _ := openWithHistory(t, 3000)
	if n := walSize(t, path); n == 0 {
		t.Fatal("the history wrote nothing to the write-ahead log: the test shows nothing")
	}
	if err := s.KeepCatalogRows(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("write-ahead log after the build of the catalog rows: %d bytes, want it started over", n)
	}
}

// TestAReaderDuringTheBuildDelaysTheLogsRestartToTheNextFold: a reader
// that holds the versions from before the build keeps the log from starting
// over when the build ends; the next Apply after it finished starts it over.
// The history read before and after is the same but for the new version.
func TestAReaderDuringTheBuildDelaysTheLogsRestartToTheNextFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path, evs := openWithHistory(t, 3000)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var during int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM history_versions`).Scan(&during); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n == 0 {
		t.Fatal("the log started over while a reader read its frames")
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	edit := histtest.Upsert(t, evs[len(evs)-1].Position+1, "after-the-build", "team-a", "uid-after-the-build", nil)
	if err := s.Apply(ctx, []event.Envelope{edit}); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("write-ahead log after the first fold that followed the reader: %d bytes, want it started over", n)
	}
	var after int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM history_versions`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if during == 0 || after != during+1 {
		t.Errorf("versions read during the build %d, after the next fold %d; want one more", during, after)
	}
}
