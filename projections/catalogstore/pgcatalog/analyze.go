package pgcatalog

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statistics after growth. PostgreSQL's autovacuum analyzes a table once a
// minute at best, after 10% of its rows changed; a first ingestion that
// fills the read model in less than that leaves the planner without
// statistics of its tables, and every query that follows is planned for
// empty tables: a page's relation decoration took 70 ms instead of 2.6 ms.
// So the store analyzes its tables itself whenever the events it folded
// reach analyzeMinRows and then each time they double, one analyze at a
// time, in the background.
//
// Doubling, not a tenth more: an ANALYZE samples up to 30,000 rows of a
// table whatever its size, so each costs about the same once the tables are
// that large, and a tenth more analyzed a first ingestion of 100,000
// entities 13 times, 7% of PostgreSQL's CPU until everything was queryable.
// The planner scales the row counts it last read by the table's current
// size, so statistics of half the rows still plan as well as they did: what
// they must show is the kinds of rows, not their number.

// analyzeMinRows is the number of events folded that first makes the
// store analyze its tables.
const analyzeMinRows = 2000

// analyzeGrowth is how many times the events folded at the last analyze
// the events folded must reach for the next.
const analyzeGrowth = 2

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
	if !analyzeDue(w, last) || s.bulk.Load() || !a.running.CompareAndSwap(false, true) {
		return
	}
	a.analyzed.Store(w)
	go func() {
		defer a.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		if err := analyzeTables(ctx, s.pool); err != nil {
			// A closed store, or a server going away: the next growth
			// tries again, and autovacuum still runs.
			slog.Debug("catalog store (postgres): analyze after growth", "err", err)
			a.analyzed.Store(last)
			return
		}
		slog.Debug("catalog store (postgres): analyzed after growth", "events folded", w, "took", time.Since(start).Round(time.Millisecond))
	}()
}

// analyzeDue reports whether written events folded call for an analyze
// when analyzed were folded at the last one.
func analyzeDue(written, analyzed int64) bool {
	return written >= max(analyzeMinRows, analyzed*analyzeGrowth)
}

// analyzeTables refreshes the planner's statistics of the tables a fold
// fills (bulkTables), one after the other. Columns no query filters, joins
// or sorts on, the entities' bodies first, keep no statistics (migration
// 0007), so each table is analyzed whole: an ANALYZE that names columns
// leaves the table's changes counted as not analyzed, and autovacuum would
// analyze it again.
func analyzeTables(ctx context.Context, pool *pgxpool.Pool) error {
	for _, t := range bulkTables {
		if err := analyzeTable(ctx, pool, t); err != nil {
			return err
		}
	}
	return nil
}

// bulkStatisticsTarget is the statistics target of the ANALYZE that ends
// a bulk load or a replay (EndBulk): an ANALYZE samples 300 rows a unit of
// target, and at 100,000 components the default of 100 (30,000 rows) read
// nearly every page of entities, whose rows carry the bodies. The sample,
// not the columns, is its cost (entities analyzed for one column cost 190-260
// ms of PostgreSQL CPU, for all of them 300-320). With 30 (9,000 rows), the
// three big tables cost 310 ms in all instead of 810 (under load 20-28,
// each twice: entities 300 -> 130-150 ms, relations 290-300 -> 110-120,
// search 210-220 -> 70-80). The planner then sees at most 30 common values
// a column (and 30 pairs of search's key and value) where it saw 100; the
// store's own ANALYZE after growth (once the store that serves the read
// model has folded analyzeMinRows events) and autovacuum's gather them at
// the default again.
const bulkStatisticsTarget = 30

// analyzeSample analyzes table t with the statistics target target for
// the columns that have none of their own (migration 0007 sets 0 for those
// no query reads).
func analyzeSample(ctx context.Context, pool *pgxpool.Pool, t string, target int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL default_statistics_target = `+strconv.Itoa(target)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// analyzeTable analyzes table t.
func analyzeTable(ctx context.Context, pool *pgxpool.Pool, t string) error {
	_, err := pool.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize())
	return err
}
