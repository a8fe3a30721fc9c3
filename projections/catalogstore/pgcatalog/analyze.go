package pgcatalog

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statistics after growth. PostgreSQL's autovacuum analyzes a table once a
// minute at best, after 10% of its rows changed; a first ingestion that
// fills the read model in less than that leaves the planner without
// statistics of its tables, and every query that follows is planned for
// empty tables: a page's relation decoration took 70 ms instead of 2.6 ms.
// So the store analyzes its tables itself whenever the events it folded
// since its last analyze reach analyzeMinRows and a tenth of those written
// before, one analyze at a time, in the background.

// analyzeMinRows is the number of events folded that first makes the
// store analyze its tables.
const analyzeMinRows = 2000

// analyzer counts the events folded and runs ANALYZE as they grow.
type analyzer struct {
	written  atomic.Int64 // events folded by this store
	analyzed atomic.Int64 // written at the start of the last analyze
	running  atomic.Bool
}

// wrote adds n events folded, and starts an analyze when they grew
// enough since the last one.
func (s *Store) wrote(n int) {
	a := &s.analyze
	w := a.written.Add(int64(n))
	last := a.analyzed.Load()
	if w-last < max(analyzeMinRows, last/10) || s.bulk.Load() || !a.running.CompareAndSwap(false, true) {
		return
	}
	a.analyzed.Store(w)
	go func() {
		defer a.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		for _, t := range bulkTables {
			if _, err := s.pool.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
				// A closed store, or a server going away: the next growth
				// tries again, and autovacuum still runs.
				slog.Debug("catalog store (postgres): analyze after growth", "table", t, "err", err)
				a.analyzed.Store(last)
				return
			}
		}
		slog.Debug("catalog store (postgres): analyzed after growth", "events folded", w, "took", time.Since(start).Round(time.Millisecond))
	}()
}
