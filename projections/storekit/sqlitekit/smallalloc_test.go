package sqlitekit_test

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// largestAllocation returns the largest allocation SQLite was asked for
// (SQLITE_STATUS_MALLOC_SIZE's peak); SQLite counts it only with its memory
// statistics on (countAllocations).
func largestAllocation(t *testing.T) int64 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16)
	defer libc.Xfree(tls, p)
	if rc := sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_MALLOC_SIZE, p, p+8, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_status64: %d", rc)
	}
	return int64(binary.NativeEndian.Uint64(libc.GoBytes(p+8, 8)))
}

// countAllocations turns SQLite's memory statistics on (off in
// modernc.org/sqlite's build); before the first connection only.
func countAllocations(t *testing.T) {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.NewVaList(int32(1))
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MEMSTATUS, va); rc != sqlite3.SQLITE_OK {
		t.Fatalf("SQLITE_CONFIG_MEMSTATUS: %d", rc)
	}
}

// buildIndex writes 100,000 rows of 64-character values (about 7 MB to
// sort) and builds an index over them through a writer with an 8 MiB cache,
// whose sorter may take up to 8 MiB.
func buildIndex(t *testing.T) {
	t.Helper()
	w, r, err := sqlitekit.Open(filepath.Join(t.TempDir(), "s.db"), sqlitekit.Options{CacheKiB: 8192, Migrations: fstest.MapFS{}, MigrationGlob: "m/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, stmt := range []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
		 INSERT INTO t SELECT i, hex(randomblob(32)) FROM c`,
		`CREATE INDEX t_v ON t(v)`,
	} {
		if _, err := w.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := w.QueryRow(`SELECT count(*) FROM t INDEXED BY t_v WHERE v > ''`).Scan(&n); err != nil || n != 100000 {
		t.Fatalf("index holds %d rows (%v), want 100000", n, err)
	}
}

// TestAnIndexBuildMakesNoLargeAllocation builds an index over 7 MB of keys
// with small allocations asked for: SQLite's largest allocation stays far
// below its sorter's doubling buffer, which the control (without) shows.
func TestAnIndexBuildMakesNoLargeAllocation(t *testing.T) {
	if !inChild(t, "smallalloc") {
		return
	}
	countAllocations(t)
	if err := sqlitekit.AvoidLargeAllocations(); err != nil {
		t.Fatal(err)
	}
	if !sqlitekit.SmallAllocations() {
		t.Error("SmallAllocations() = false after AvoidLargeAllocations")
	}
	buildIndex(t)
	got := largestAllocation(t)
	t.Logf("largest allocation %d bytes", got)
	if got >= 1<<20 {
		t.Errorf("largest allocation %d bytes, want none of a MiB or more", got)
	}
	if err := sqlitekit.AvoidLargeAllocations(); !errors.Is(err, sqlitekit.ErrConfigTooLate) {
		t.Errorf("AvoidLargeAllocations after the first connection: %v, want ErrConfigTooLate", err)
	}
}

// TestAnIndexBuildDoublesItsSorterBuffer is the control: without small
// allocations, the same index build asks for a buffer of several MiB.
func TestAnIndexBuildDoublesItsSorterBuffer(t *testing.T) {
	if !inChild(t, "largealloc") {
		return
	}
	countAllocations(t)
	buildIndex(t)
	got := largestAllocation(t)
	t.Logf("largest allocation %d bytes", got)
	if got < 4<<20 {
		t.Errorf("largest allocation %d bytes, want the sorter's buffer of 4 MiB or more", got)
	}
}
