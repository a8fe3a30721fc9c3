package sqlitecatalog

import (
	"context"
	"fmt"
	"time"
)

// A bulk load ends with a write-ahead log much longer than the writer's
// autocheckpoint threshold (wal_autocheckpoint): the indexes EndBulk builds
// are written there whole. SQLite starts the log over only when a write
// begins after a checkpoint copied all of it while no reader still read
// from it; with readers at work all the time (pages, polls, the badges'
// evaluator), a checkpoint right after a commit never copies the frames of
// that commit, so the log never starts over. Every later commit then runs a
// checkpoint of its own, with two fsyncs, because the log stays over the
// threshold: an edit's fold after a live bulk load took tens to hundreds of
// milliseconds instead of two. The store therefore resets the log itself
// once a bulk load ends (resetWAL): a truncating checkpoint, which waits for
// the readers of the old frames to finish; while readers keep it from
// succeeding, each later Apply tries again after its commit.

const (
	// endBulkWALWait bounds EndBulk's wait for readers of the old frames.
	endBulkWALWait = time.Second
	// applyWALWait bounds the wait of each later Apply's attempt, which an
	// edit's fold pays: readers' statements take milliseconds.
	applyWALWait = 50 * time.Millisecond
)

// resetWAL checkpoints the whole write-ahead log into the database file and
// truncates it, waiting at most wait for readers still reading old frames.
// It reports whether the log was reset. The caller holds s.mu.
func (s *Store) resetWAL(ctx context.Context, wait time.Duration) (bool, error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("catalog store: checkpoint: %w", err)
	}
	defer conn.Close()
	var was int64
	if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&was); err != nil {
		return false, fmt.Errorf("catalog store: checkpoint: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, wait.Milliseconds())); err != nil {
		return false, fmt.Errorf("catalog store: checkpoint: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, was))
	var busy, frames, copied int64
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("catalog store: checkpoint: %w", err)
	}
	return busy == 0, nil
}

// afterBulk resets the write-ahead log a bulk load left behind, waiting at
// most wait, and remembers whether it is still to do (Store.walLeft). The
// caller holds s.mu. A failed attempt is not an error of the write that
// made it: the data is committed, and the next Apply tries again.
func (s *Store) afterBulk(ctx context.Context, wait time.Duration) {
	ok, err := s.resetWAL(ctx, wait)
	s.walLeft = err != nil || !ok
}
