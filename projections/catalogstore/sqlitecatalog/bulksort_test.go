package sqlitecatalog_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"backlot.dev/backlot/internal/testenv/childproc"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// TestAnIndexRebuildSortsInASmallBuffer folds 20,000 components in bulk
// mode and rebuilds the indexes (EndBulk): the largest allocation SQLite
// makes, the sorter's buffer of the search index's build (about 10 MB of
// keys), stays within indexSortKiB (2 MiB) and far under the writer's cache.
// It runs in a process of its own: SQLite counts its allocations only when
// told so before its first connection.
func TestAnIndexRebuildSortsInASmallBuffer(t *testing.T) {
	const env = "SQLITECATALOG_BULKSORT_CHILD"
	if !childproc.Run(t, env, "1") {
		return
	}
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.NewVaList(int32(1))
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MEMSTATUS, va); rc != sqlite3.SQLITE_OK {
		t.Fatalf("SQLITE_CONFIG_MEMSTATUS: %d", rc)
	}
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{CacheKiB: 16384})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	evs := upserts(t, 0, 20000)
	for i := 0; i < len(evs); i += 1000 {
		if err := s.Apply(ctx, evs[i:i+1000]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	p := libc.Xmalloc(tls, 16)
	defer libc.Xfree(tls, p)
	if rc := sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_MALLOC_SIZE, p, p+8, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_status64: %d", rc)
	}
	largest := int64(binary.NativeEndian.Uint64(libc.GoBytes(p+8, 8)))
	t.Logf("largest allocation %d bytes", largest)
	if largest > 2<<20+64 {
		t.Errorf("largest SQLite allocation %d bytes, want the index builds' sorter within 2 MiB", largest)
	}
	if largest < 1<<20 {
		t.Errorf("largest SQLite allocation %d bytes: the rebuild sorted less than its buffer, the test proves nothing", largest)
	}
}
