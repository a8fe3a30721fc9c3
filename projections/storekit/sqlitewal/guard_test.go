package sqlitewal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"backlot.dev/backlot/projections/storekit/sqlitekit"
	"backlot.dev/backlot/projections/storekit/sqlitewal"
)

// TestGuardStartsTheLogOverOnceTheReaderLetsGo: a commit that leaves the
// log past the guard's limit starts it over (an empty -wal file); while a
// reader holds its frames the attempt fails, and the next commit after the
// reader finished succeeds. The busy_timeout the attempt lowered is set back.
func TestGuardStartsTheLogOverOnceTheReaderLetsGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{Migrations: fstest.MapFS{"m/0001_t.sql": {Data: []byte("CREATE TABLE t (x TEXT);")}},
		MigrationGlob: "m/*.sql", VersionPrefix: "test/"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	g := sqlitewal.Guard{Path: path, Limit: 64 << 10, Wait: 10 * time.Millisecond}
	size := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	write := func() {
		if _, err := w.ExecContext(ctx, `INSERT INTO t VALUES (?)`, strings.Repeat("x", 100<<10)); err != nil {
			t.Fatal(err)
		}
	}
	write()
	reader, err := r.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	write()
	if !g.AfterCommit(ctx, w) {
		t.Fatal("the guard did not try with a log past its limit")
	}
	if size() == 0 {
		t.Fatal("the log started over while a reader held its frames")
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO t VALUES ('small')`); err != nil {
		t.Fatal(err)
	}
	if !g.AfterCommit(ctx, w) {
		t.Fatal("the guard did not try again after a failed attempt")
	}
	if got := size(); got != 0 {
		t.Errorf("log after the reader let go: %d bytes, want it started over", got)
	}
	if g.AfterCommit(ctx, w) {
		t.Error("the guard tried with an empty log and nothing left to do")
	}
	var timeout int
	if err := w.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != 10000 {
		t.Errorf("writer's busy_timeout after the attempts = %d (%v), want 10000", timeout, err)
	}
}
