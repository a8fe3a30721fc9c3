package sqlitewal_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/projections/storekit/sqlitekit"
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

// openFile opens a SQLite file of one table, rows(v), in the test's folder,
// as the stores open theirs: a writer and a read pool, in WAL mode.
func openFile(t *testing.T) (path string, write, read *sql.DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "wal.db")
	write, read, err := sqlitekit.Open(path, sqlitekit.Options{
		Migrations:    fstest.MapFS{"0001_rows.sql": {Data: []byte(`CREATE TABLE rows(v TEXT);`)}},
		MigrationGlob: "*.sql",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { read.Close(); write.Close() })
	return path, write, read
}

// largeWrite writes about 8 MB in one transaction: twice the log SQLite's
// autocheckpoint leaves alone (1,000 pages).
func largeWrite(t *testing.T, db *sql.DB) {
	t.Helper()
	insert(t, db, 2000)
}

// insert writes n rows of 4 KB in one transaction.
func insert(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	v := strings.Repeat("x", 4000)
	for range n {
		if _, err := tx.Exec(`INSERT INTO rows(v) VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// count reads the rows on db.
func count(t *testing.T, db interface {
	QueryRow(string, ...any) *sql.Row
}) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM rows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestALargeWriteEndsWithTheLogStartedOver: AfterLargeWrite leaves an empty
// write-ahead log when no reader reads it, where SQLite's own checkpoint
// after the commit leaves the file its size.
func TestALargeWriteEndsWithTheLogStartedOver(t *testing.T) {
	t.Parallel()
	path, write, _ := openFile(t)
	largeWrite(t, write)
	if n := walSize(t, path); n < 4<<20 {
		t.Fatalf("the large write left a log of %d bytes: the test shows nothing", n)
	}
	r := sqlitewal.Restarter{DB: write}
	r.AfterLargeWrite(context.Background())
	if n := walSize(t, path); n != 0 || r.Left() {
		t.Errorf("write-ahead log after the large write: %d bytes (left %v), want it started over", n, r.Left())
	}
}

// TestAReaderDelaysTheRestartToTheNextCommit: a reader that holds frames of
// the large write keeps the log from starting over then; AfterCommit after
// the next commit, once the reader finished, starts it over, and the
// commits after that do not try again. The data read before and after is
// the same.
func TestAReaderDelaysTheRestartToTheNextCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path, write, read := openFile(t)
	insert(t, write, 1)
	reader, err := read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	during := count(t, reader)
	largeWrite(t, write)
	r := sqlitewal.Restarter{DB: write}
	r.AfterLargeWrite(ctx)
	if n := walSize(t, path); n == 0 || !r.Left() {
		t.Fatalf("the log started over (%d bytes, left %v) while a reader read its frames", n, r.Left())
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	insert(t, write, 1)
	r.AfterCommit(ctx)
	if n := walSize(t, path); n != 0 || r.Left() {
		t.Errorf("write-ahead log after the first commit that followed the reader: %d bytes (left %v), want it started over", n, r.Left())
	}
	insert(t, write, 1)
	r.AfterCommit(ctx)
	if n := walSize(t, path); n == 0 {
		t.Error("a commit after the restart checkpointed again: its frames are gone from the log")
	}
	if after := count(t, read); during != 1 || after != 2003 {
		t.Errorf("rows read during the large write %d, after %d; want 1 and 2003", during, after)
	}
}

// TestACommitWithoutALargeWriteLeavesTheLog: AfterCommit does nothing
// before a large write: a small commit's frames stay in the log, as
// SQLite's autocheckpoint leaves them.
func TestACommitWithoutALargeWriteLeavesTheLog(t *testing.T) {
	t.Parallel()
	path, write, _ := openFile(t)
	insert(t, write, 10)
	r := sqlitewal.Restarter{DB: write}
	r.AfterCommit(context.Background())
	if n := walSize(t, path); n == 0 || r.Left() {
		t.Errorf("write-ahead log after a small commit: %d bytes (left %v), want its frames kept", n, r.Left())
	}
}

// TestResetRestoresTheBusyTimeout: the writer's busy_timeout is what it was
// after a Reset that waited less.
func TestResetRestoresTheBusyTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, write, _ := openFile(t)
	if _, err := sqlitewal.Reset(ctx, write, sqlitewal.CommitWait); err != nil {
		t.Fatal(err)
	}
	var ms int64
	if err := write.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != 10000 {
		t.Errorf("busy_timeout after Reset: %d ms, want sqlitekit's 10000", ms)
	}
}
