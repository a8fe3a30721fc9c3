package sqlitekit

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// SQLite starts a write-ahead log over only when a write begins after a
// checkpoint copied all of it while no reader still read from it. While
// readers are at work all the time (a projector's catch-up read by the API,
// an evaluator reading the verdicts it compares with), the checkpoint right
// after a commit never copies that commit's frames, so a log that grew over
// wal_autocheckpoint never starts over: every later commit runs a checkpoint
// of its own, with two fsyncs, however small. ResetWAL starts it over with a
// truncating checkpoint, which waits for the readers of the old frames.

// ResetWAL checkpoints the whole write-ahead log of the writer's file into the
// database and truncates it, waiting at most wait for readers still reading
// old frames. It reports whether the log was reset (false: readers held it
// past wait). write is a store's writer (Open's, one connection); the caller
// holds it (no transaction of its own is open). The writer's busy_timeout is
// set back after.
func ResetWAL(ctx context.Context, write *sql.DB, wait time.Duration) (bool, error) {
	conn, err := write.Conn(ctx)
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

// WALGuard keeps a store's write-ahead log from staying over its
// autocheckpoint threshold: after each commit of the store's writer
// (AfterCommit), when the log file has grown past Limit bytes or an earlier
// reset did not succeed, it starts the log over (ResetWAL). A log that
// SQLite restarts on its own is truncated once it passes Limit, where SQLite
// checkpoints it anyway. The zero value with a Path and Limit is ready; it is
// not safe for concurrent use (the store's writer lock guards it).
type WALGuard struct {
	// Path is the database file's path; its log is Path + "-wal".
	Path string
	// Limit is the log's size, in bytes, past which it is started over:
	// about wal_autocheckpoint pages.
	Limit int64
	// Wait bounds each reset's wait for readers of the old frames, which the
	// commit before pays: readers' statements take milliseconds.
	Wait time.Duration
	// left says a reset is still to do: readers held the last attempt off.
	left bool
}

// AfterCommit starts the log over if it grew past g.Limit or an attempt
// before failed, and reports whether it tried. A failed attempt is not an
// error of the commit before, whose data is written: the next commit tries
// again.
func (g *WALGuard) AfterCommit(ctx context.Context, write *sql.DB) bool {
	if !g.left {
		fi, err := os.Stat(g.Path + "-wal")
		if err != nil || fi.Size() <= g.Limit {
			return false
		}
	}
	ok, err := ResetWAL(ctx, write, g.Wait)
	g.left = err != nil || !ok
	return true
}
