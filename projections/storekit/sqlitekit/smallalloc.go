package sqlitekit

import (
	"errors"
	"fmt"
	"sync/atomic"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrConfigTooLate is returned by AvoidLargeAllocations once SQLite has been
// initialised, which the process's first connection does.
var ErrConfigTooLate = errors.New("sqlitekit: SQLite's allocations must be configured before the process opens its first SQLite connection")

// AvoidLargeAllocations tells SQLite to allocate in small pieces where it
// can (SQLITE_CONFIG_SMALL_MALLOC). The one place it changes is the sorter
// (CREATE INDEX, and ORDER BY or GROUP BY without an index): instead of one
// buffer that doubles up to the connection's cache_size (page size, 2, 4, 8
// MiB for an 8 MiB cache), it allocates each sorted record on its own and
// frees them when it writes a sorted run. modernc.org/libc's allocator keeps
// the newest freed region of each large size class resident for reuse, so
// the doubling buffers of one index build stay resident after it: 15 MiB
// (8 + 4 + 2 + 1) in backlot dev after a bulk load's index rebuild, for the
// life of the process. Small pieces go back to the allocator's pages of
// small slots, of which it keeps at most 4 MiB resident once freed. A sort
// still holds up to cache_size of records before it spills a run.
//
// It must run before the process opens its first SQLite connection; after,
// it returns ErrConfigTooLate and changes nothing.
func AvoidLargeAllocations() error {
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.NewVaList(int32(1))
	if va == 0 {
		return errors.New("sqlitekit: out of memory")
	}
	defer libc.Xfree(tls, va)
	switch rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_SMALL_MALLOC, va); rc {
	case sqlite3.SQLITE_OK:
		smallAllocations.Store(true)
		return nil
	case sqlite3.SQLITE_MISUSE:
		return ErrConfigTooLate
	default:
		return fmt.Errorf("sqlitekit: small allocations: sqlite3_config returned %d", rc)
	}
}

// smallAllocations is set once AvoidLargeAllocations configured SQLite.
var smallAllocations atomic.Bool

// SmallAllocations reports whether AvoidLargeAllocations configured this
// process's SQLite.
func SmallAllocations() bool { return smallAllocations.Load() }
