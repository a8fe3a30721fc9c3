package sqlitelog

import (
	"errors"
	"fmt"
	"time"
)

// Options configures a Log. The zero value is valid: Open fills every zero field with
// its default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another connection
	// (usually another process appending to the same file) before failing with
	// "database is locked". Default 5s; it is applied in whole milliseconds.
	BusyTimeout time.Duration
	// PollInterval is how often Wait re-reads the head from the file, so that appends
	// made by another Log on the same file (another process) are noticed. Appends
	// made through the same Log wake waiters at once, without polling. Default 200ms.
	PollInterval time.Duration
	// ReadConns is the maximum number of read connections; reads run in parallel
	// with each other and with the writer. Default 4.
	ReadConns int
	// DefaultReadLimit is the number of events Read and ReadFiltered return at most
	// when called with limit <= 0. Default 1000.
	DefaultReadLimit int
	// MmapSize is how many bytes of the file read connections access through a memory
	// map instead of read calls, which makes batch reads about 40% faster. Mapped pages
	// that were read count in the process's resident memory (the kernel can reclaim
	// them). Default 256 MiB; a negative value turns memory mapping off.
	MmapSize int64
	// ReadCacheKiB is each read connection's page cache in KiB. Default 1024:
	// a reader drops its page cache whenever it begins a read after an append
	// (WAL mode), so under a stream of appends a larger one only holds memory.
	ReadCacheKiB int
	// FullSync selects synchronous=FULL instead of NORMAL. NORMAL, the default, makes
	// every returned Append durable across a crash or kill of the process; FULL makes
	// it durable across a power loss or operating-system crash too, at the cost of an
	// fsync per append.
	FullSync bool
}

const (
	defaultBusyTimeout      = 5 * time.Second
	defaultPollInterval     = 200 * time.Millisecond
	defaultReadConns        = 4
	defaultDefaultReadLimit = 1000
	defaultMmapSize         = 256 << 20
	defaultReadCacheKiB     = 1024
)

// setDefaults fills the zero fields of o with their defaults.
func (o *Options) setDefaults() {
	if o.BusyTimeout == 0 {
		o.BusyTimeout = defaultBusyTimeout
	}
	if o.PollInterval == 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.ReadConns == 0 {
		o.ReadConns = defaultReadConns
	}
	if o.DefaultReadLimit == 0 {
		o.DefaultReadLimit = defaultDefaultReadLimit
	}
	if o.MmapSize == 0 {
		o.MmapSize = defaultMmapSize
	}
	if o.ReadCacheKiB == 0 {
		o.ReadCacheKiB = defaultReadCacheKiB
	}
}

// Validate reports every field of o that is out of range, joined into one error. It
// does not fill defaults; Open calls it after filling them.
func (o Options) Validate() error {
	var errs []error
	if o.BusyTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("BusyTimeout must be at least 1ms, got %s", o.BusyTimeout))
	}
	if o.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("PollInterval must be positive, got %s", o.PollInterval))
	}
	if o.ReadConns < 1 {
		errs = append(errs, fmt.Errorf("ReadConns must be at least 1, got %d", o.ReadConns))
	}
	if o.ReadCacheKiB < 1 {
		errs = append(errs, fmt.Errorf("ReadCacheKiB must be at least 1, got %d", o.ReadCacheKiB))
	}
	if o.DefaultReadLimit < 1 {
		errs = append(errs, fmt.Errorf("DefaultReadLimit must be at least 1, got %d", o.DefaultReadLimit))
	}
	if len(errs) > 0 {
		return fmt.Errorf("sqlitelog: invalid options: %w", errors.Join(errs...))
	}
	return nil
}
