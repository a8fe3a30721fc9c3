package sqlitewal

import (
	"context"
	"database/sql"
	"os"
	"time"
)

// Guard keeps a store's write-ahead log from staying over its autocheckpoint
// threshold when no single write is large but many together are (a catch-up
// folded while readers keep reading, such as a full evaluation's verdicts,
// which the evaluator reads page by page): after each commit of the store's
// writer (AfterCommit), when the log file has grown past Limit bytes or an
// earlier reset did not succeed, it starts the log over (Reset). A log that
// SQLite restarts on its own is truncated once it passes Limit, where SQLite
// checkpoints it anyway. The zero value with a Path, Limit and Wait is ready;
// it is not safe for concurrent use (the store's writer lock guards it).
type Guard struct {
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
func (g *Guard) AfterCommit(ctx context.Context, write *sql.DB) bool {
	if !g.left {
		if size, err := LogSize(g.Path); err != nil || size <= g.Limit {
			return false
		}
	}
	ok, err := Reset(ctx, write, g.Wait)
	g.left = err != nil || !ok
	return true
}

// LogSize is the size in bytes of the write-ahead log of the SQLite file at
// path (path + "-wal"); an error when the log file is not there.
func LogSize(path string) (int64, error) {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
