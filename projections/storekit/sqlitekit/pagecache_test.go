package sqlitekit_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/internal/testenv/childproc"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// childEnv names, in a test re-run as a child process, the case it runs: the
// shared page cache is set up once per process, before its first connection,
// so each case needs a process of its own.
const childEnv = "SQLITEKIT_PAGECACHE_CHILD"

// inChild is childproc.Run with childEnv.
func inChild(t *testing.T, name string) bool {
	t.Helper()
	return childproc.Run(t, childEnv, name)
}

// TestPageSlotSizeHoldsAPageAndItsHeader: a slot is a page and SQLite's
// header for it, well under the 8 KiB the allocator gives a page otherwise.
func TestPageSlotSizeHoldsAPageAndItsHeader(t *testing.T) {
	t.Parallel()
	slot, err := sqlitekit.PageSlotSize()
	if err != nil {
		t.Fatal(err)
	}
	if slot <= sqlitekit.PageSize || slot > sqlitekit.PageSize+1024 || slot%8 != 0 {
		t.Errorf("slot size %d: want a multiple of 8 above the page size %d and at most 1 KiB more", slot, sqlitekit.PageSize)
	}
}

// TestSharedPageCacheBoundsTheCaches writes 5 MB through a writer whose
// cache_size is 16 MiB, with a shared buffer of 1 MiB: every page the caches
// held came from the buffer, which never held more than its slots, and the
// pages allocated outside it stayed a few (the ones pinned at once).
func TestSharedPageCacheBoundsTheCaches(t *testing.T) {
	if !inChild(t, "bounds") {
		return
	}
	const kib = 1024
	if err := sqlitekit.SharePageCache(kib); err != nil {
		t.Fatal(err)
	}
	if err := sqlitekit.SharePageCache(kib); err != nil {
		t.Errorf("the same size again: %v, want the first call's nil", err)
	}
	if err := sqlitekit.SharePageCache(2 * kib); err == nil {
		t.Error("another size was accepted after the buffer was set up")
	}
	migs := fstest.MapFS{"m/0001.sql": {Data: []byte("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v)")}}
	w, r, err := sqlitekit.Open(filepath.Join(t.TempDir(), "p.db"), sqlitekit.Options{CacheKiB: 16384, ReadCacheKiB: 4096, Migrations: migs, MigrationGlob: "m/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	for batch := range 12 {
		tx, err := w.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			// Values in scattered order, so the index takes inserts all over.
			v := fmt.Sprintf("%08x-%s", uint32((batch*1000+i)*2654435761), strings.Repeat("x", 380))
			if _, err := tx.Exec(`INSERT INTO t(v) VALUES (?)`, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := r.QueryRow(`SELECT count(*) FROM t WHERE v > '8'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	if err := w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	s := sqlitekit.PageCacheStatus()
	t.Logf("file %d pages; %+v", pages, s)
	if want := kib << 10 / s.SlotSize; s.Slots != want {
		t.Errorf("slots = %d, want %d", s.Slots, want)
	}
	if pages < 4*s.Slots {
		t.Fatalf("the file has %d pages: too few to fill %d slots four times over", pages, s.Slots)
	}
	if s.Used == 0 || s.UsedPeak > int64(s.Slots) {
		t.Errorf("slots used %d (peak %d) of %d: want some, never more than there are", s.Used, s.UsedPeak, s.Slots)
	}
	if limit := int64(32 * 8192); s.OverflowPeak > limit {
		t.Errorf("pages outside the buffer peaked at %d bytes, want at most %d (32 pages): the caches grew past the buffer", s.OverflowPeak, limit)
	}
}

// TestSharedPageCacheIsTooLateAfterAConnection: once a connection has
// opened, SQLite is initialised and the buffer can no longer be set up.
func TestSharedPageCacheIsTooLateAfterAConnection(t *testing.T) {
	if !inChild(t, "late") {
		return
	}
	w, r, err := sqlitekit.Open(filepath.Join(t.TempDir(), "l.db"), sqlitekit.Options{Migrations: fstest.MapFS{}, MigrationGlob: "m/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	if err := sqlitekit.SharePageCache(1024); !errors.Is(err, sqlitekit.ErrPageCacheTooLate) {
		t.Errorf("SharePageCache after a connection = %v, want ErrPageCacheTooLate", err)
	}
	if s := sqlitekit.PageCacheStatus(); s.Slots != 0 {
		t.Errorf("slots = %d, want none", s.Slots)
	}
}
