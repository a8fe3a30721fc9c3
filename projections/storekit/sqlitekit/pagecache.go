package sqlitekit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// PageSize is the page size of every SQLite file Backlot creates (SQLite's
// default); the slots of the shared page cache are sized for it.
const PageSize = 4096

// ErrPageCacheTooLate is returned by SharePageCache once SQLite has been
// initialised, which the first connection of the process does: the shared
// buffer can only be set up before.
var ErrPageCacheTooLate = errors.New("sqlitekit: the shared page cache must be set up before the process opens its first SQLite connection")

// pageCache is the process's one shared page cache buffer (SharePageCache).
var pageCache struct {
	mu    sync.Mutex
	done  bool
	kib   int
	err   error
	slots int
	slot  int
	buf   uintptr // outside Go's heap; lives until the process ends
}

// SharePageCache gives every SQLite connection of the process its page
// cache out of one buffer of kib KiB, in slots of PageSlotSize bytes, a page
// and SQLite's header for it (SQLITE_CONFIG_PAGECACHE). Without it each
// cached page is a separate allocation, which modernc.org/libc's allocator
// rounds up to a power of two: a 4,096-byte page and its 300-byte header
// take an 8 KiB slot, so every cache costs twice its size. The buffer is
// written once through when it is set up, so all of it is resident from then
// on: size it to the pages the process's caches hold together, not to the
// sum of their cache_size.
//
// The buffer is also a bound. While fewer than a handful of its slots are
// free, SQLite is "under memory pressure": a connection that needs a new
// page recycles the least recently used of its own unpinned pages, even
// below its cache_size, instead of allocating one. Only a connection with
// every page pinned allocates one outside the buffer, as SQLite always did.
// Each connection's cache_size still caps its own share.
//
// It must run before the process opens its first SQLite connection; after,
// it returns ErrPageCacheTooLate and changes nothing. It sets up the buffer
// once: a later call with the same size returns the first call's result, one
// with another size an error.
func SharePageCache(kib int) error {
	pageCache.mu.Lock()
	defer pageCache.mu.Unlock()
	if pageCache.done {
		if kib != pageCache.kib {
			return fmt.Errorf("sqlitekit: the shared page cache is already set up with %d KiB, not %d", pageCache.kib, kib)
		}
		return pageCache.err
	}
	if kib <= 0 {
		return fmt.Errorf("sqlitekit: shared page cache of %d KiB: must be positive", kib)
	}
	slot, err := PageSlotSize()
	if err != nil {
		return err
	}
	slots := kib << 10 / slot
	tls := libc.NewTLS()
	defer tls.Close()
	buf := libc.Xmalloc(tls, types.Size_t(slots*slot))
	if buf == 0 {
		return fmt.Errorf("sqlitekit: shared page cache of %d KiB: out of memory", kib)
	}
	va := libc.NewVaList(buf, int32(slot), int32(slots))
	defer libc.Xfree(tls, va)
	pageCache.done, pageCache.kib = true, kib
	switch rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, va); rc {
	case sqlite3.SQLITE_OK:
		pageCache.buf, pageCache.slot, pageCache.slots = buf, slot, slots
	case sqlite3.SQLITE_MISUSE:
		libc.Xfree(tls, buf)
		pageCache.err = ErrPageCacheTooLate
	default:
		libc.Xfree(tls, buf)
		pageCache.err = fmt.Errorf("sqlitekit: shared page cache: sqlite3_config returned %d", rc)
	}
	return pageCache.err
}

// PageSlotSize is the size in bytes of one slot of the shared page cache: a
// PageSize page and the header SQLite keeps with it
// (SQLITE_CONFIG_PCACHE_HDRSZ), rounded up to 8 bytes.
func PageSlotSize() (int, error) {
	tls := libc.NewTLS()
	defer tls.Close()
	out := libc.Xmalloc(tls, 8)
	if out == 0 {
		return 0, errors.New("sqlitekit: out of memory")
	}
	defer libc.Xfree(tls, out)
	libc.Xmemset(tls, out, 0, 8)
	va := libc.NewVaList(out)
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, va); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("sqlitekit: page header size: sqlite3_config returned %d", rc)
	}
	hdr := int(int32(binary.NativeEndian.Uint32(libc.GoBytes(out, 4))))
	return (PageSize + hdr + 7) &^ 7, nil
}

// PageCacheStats describes SQLite's page caches in this process.
type PageCacheStats struct {
	// Slots is the shared buffer's number of slots, zero without one.
	Slots int
	// SlotSize is the size of a slot in bytes.
	SlotSize int
	// Used is how many slots hold a page now, and UsedPeak the most that
	// ever did.
	Used, UsedPeak int64
	// OverflowBytes is the memory of cached pages allocated outside the
	// buffer now (every cached page without one), as the allocator sized
	// it; OverflowPeak the most it ever was.
	OverflowBytes, OverflowPeak int64
}

// PageCacheStatus returns the page caches' use, from sqlite3_status.
func PageCacheStatus() PageCacheStats {
	pageCache.mu.Lock()
	s := PageCacheStats{Slots: pageCache.slots, SlotSize: pageCache.slot}
	pageCache.mu.Unlock()
	s.Used, s.UsedPeak = status(sqlite3.SQLITE_STATUS_PAGECACHE_USED)
	s.OverflowBytes, s.OverflowPeak = status(sqlite3.SQLITE_STATUS_PAGECACHE_OVERFLOW)
	return s
}

// status reads one of sqlite3_status64's counters: its value and its peak.
func status(op int32) (cur, peak int64) {
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16)
	if p == 0 {
		return 0, 0
	}
	defer libc.Xfree(tls, p)
	if sqlite3.Xsqlite3_status64(tls, op, p, p+8, 0) != sqlite3.SQLITE_OK {
		return 0, 0
	}
	b := libc.GoBytes(p, 16)
	return int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:]))
}
