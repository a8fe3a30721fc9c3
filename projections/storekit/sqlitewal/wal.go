package sqlitewal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const (
	// LargeWriteWait bounds AfterLargeWrite's wait for readers of the old
	// frames.
	LargeWriteWait = time.Second
	// CommitWait bounds the wait of each attempt of AfterCommit, which an
	// edit's fold pays: readers' statements take milliseconds.
	CommitWait = 50 * time.Millisecond
)

// Reset checkpoints the whole write-ahead log of the SQLite file db writes
// into the database file and truncates it (PRAGMA wal_checkpoint(TRUNCATE)),
// waiting at most wait for readers still reading old frames. It reports
// whether the log was reset. db is a store's writer: Reset takes one of its
// connections, so the caller must not hold one (nor a transaction); it
// restores the connection's busy_timeout before it returns.
func Reset(ctx context.Context, db *sql.DB, wait time.Duration) (bool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	var was int64
	if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&was); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, wait.Milliseconds())); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, was))
	var busy, frames, copied int64
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return busy == 0, nil
}

// Restarter starts the write-ahead log of a store's writer over after a
// large write and, while readers keep it from succeeding, after each later
// commit. The zero value is not usable: set DB. It is not safe for
// concurrent use: a store calls it under the lock that serialises its
// writes, after the write's commit.
type Restarter struct {
	// DB is the store's writer.
	DB *sql.DB
	// left says the log of a large write is still to be reset.
	left bool
}

// AfterLargeWrite resets the log a large write left behind, waiting at most
// LargeWriteWait for readers, and remembers whether it is still to do. A
// failed attempt is not an error of the write that made it: the data is
// committed, and the next AfterCommit tries again.
func (r *Restarter) AfterLargeWrite(ctx context.Context) {
	r.try(ctx, LargeWriteWait)
}

// AfterCommit tries again, waiting at most CommitWait, when the log of a
// large write is still to be reset; otherwise it does nothing.
func (r *Restarter) AfterCommit(ctx context.Context) {
	if r.left {
		r.try(ctx, CommitWait)
	}
}

// Left reports whether the log of a large write is still to be reset.
func (r *Restarter) Left() bool { return r.left }

// try resets the log, waiting at most wait, and records whether it is left.
func (r *Restarter) try(ctx context.Context, wait time.Duration) {
	ok, err := Reset(ctx, r.DB, wait)
	r.left = err != nil || !ok
}
