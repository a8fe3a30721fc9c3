package sqlitecatalog_test

import (
	"context"
	"database/sql"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore/storetest"
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

// bulkLoad folds n components into s in a live bulk load, in batches of 500
// as dev's projector does, and leaves the load open.
func bulkLoad(t *testing.T, s interface {
	BeginBulk(context.Context) error
	Apply(context.Context, []event.Envelope) error
}, n int) {
	t.Helper()
	ctx := context.Background()
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, n)
	for i := 0; i < n; i += 500 {
		if err := s.Apply(ctx, evs[i:min(i+500, n)]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestABulkLoadEndsWithTheLogStartedOver: the end of a live bulk load
// leaves an empty write-ahead log. The load's frames and the indexes EndBulk
// builds make a log far over the autocheckpoint threshold, which SQLite
// itself starts over only after a checkpoint that copied all of it while no
// reader read it; until then every commit, an edit's too, runs a checkpoint
// of its own.
func TestABulkLoadEndsWithTheLogStartedOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := storetest.OpenSQLiteFile(t)
	bulkLoad(t, s, 2000)
	if n := walSize(t, path); n == 0 {
		t.Fatal("the load wrote nothing to the write-ahead log: the test shows nothing")
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("write-ahead log after the bulk load: %d bytes, want it started over", n)
	}
}

// TestAReaderAtTheEndOfABulkLoadDelaysTheLogsRestartToTheNextWrite: a
// reader that holds frames of the load while EndBulk runs keeps the log from
// starting over then; the next Apply after it finished starts it over, so
// the commits after that one do not each run a checkpoint. The data read
// before and after is the same.
func TestAReaderAtTheEndOfABulkLoadDelaysTheLogsRestartToTheNextWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := storetest.OpenSQLiteFile(t)
	bulkLoad(t, s, 2000)
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
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM entities`).Scan(&during); err != nil {
		t.Fatal(err)
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n == 0 {
		t.Fatal("the log started over while a reader read its frames")
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	edit := storetest.Components(t, 2000, 2001)[2000:]
	if err := s.Apply(ctx, edit); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("write-ahead log after the first write that followed the reader: %d bytes, want it started over", n)
	}
	var after int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM entities`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if during != 2000 || after != 2001 {
		t.Errorf("entities read during the load's end %d, after the next write %d; want 2000 and 2001", during, after)
	}
}
