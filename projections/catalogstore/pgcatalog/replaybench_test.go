package pgcatalog_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// backendsCPU is the CPU time, in µs, that the PostgreSQL backends serving
// the store's database have spent so far, read from /proc (the server runs on
// this machine); ok is false when it cannot be read.
func backendsCPU(tb testing.TB, s *pgcatalog.Store) (us int64, ok bool) {
	tb.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
		if err != nil {
			return 0, false
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 12th and 13th, in clock ticks of 10 ms.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		us += (ut + st) * 10000
	}
	return us, rows.Err() == nil
}

// replayClock sums, over a replay benchmark's iterations, the seconds of the
// fold and of EndBulk and the CPU time the PostgreSQL backends spent in each.
type replayClock struct {
	foldCPU, endCPU, fold, end float64
	// cpuFailed says the backends' CPU could not be read once.
	cpuFailed bool
}

// run opens a fresh store, begins a replay, folds its events with fold and ends it
// with EndBulk, adding what each took to c. With BACKLOT_BENCH_SIZES set it
// logs each table's and index's rows and bytes afterwards.
func (c *replayClock) run(b *testing.B, events int, fold func(s *pgcatalog.Store)) {
	ctx := context.Background()
	b.StopTimer()
	s := openStore(b)
	b.StartTimer()
	if err := s.BeginReplay(ctx); err != nil {
		b.Fatal(err)
	}
	c0, ok0 := backendsCPU(b, s)
	t0 := time.Now()
	fold(s)
	c1, ok1 := backendsCPU(b, s)
	t1 := time.Now()
	if err := s.EndBulk(ctx); err != nil {
		b.Fatal(err)
	}
	c2, ok2 := backendsCPU(b, s)
	t2 := time.Now()
	c.cpuFailed = c.cpuFailed || !ok0 || !ok1 || !ok2
	c.foldCPU += float64(c1 - c0)
	c.endCPU += float64(c2 - c1)
	c.fold += t1.Sub(t0).Seconds()
	c.end += t2.Sub(t1).Seconds()
	if os.Getenv("BACKLOT_BENCH_SIZES") != "" {
		b.StopTimer()
		logSizes(b, s, events)
		b.StartTimer()
	}
}

// report reports c's figures for b.N replays of events events each.
func (c *replayClock) report(b *testing.B, events int) {
	ev := float64(events * b.N)
	if !c.cpuFailed {
		b.ReportMetric(c.foldCPU/ev, "pg-fold-µs/event")
		b.ReportMetric(c.endCPU/ev, "pg-end-µs/event")
	}
	b.ReportMetric(c.fold/float64(b.N), "fold-s")
	b.ReportMetric(c.end/float64(b.N), "end-s")
	b.ReportMetric(ev/(c.fold+c.end), "events/s")
}

// BenchmarkReplayHistory measures a replay of storetest.History (every kind,
// relations, edits and removals) of BACKLOT_BENCH_ENTITIES entities (default
// 20,000) into a fresh read model, as rebuild.PostgresCatalog runs one:
// BeginReplay, batches of 2,000 events, EndBulk. It reports the seconds of
// the fold and of EndBulk and, when the server runs on this machine, the
// CPU time its backends spent per event in each. With
// BACKLOT_BENCH_SIZES set it logs each table's and index's rows and bytes.
func BenchmarkReplayHistory(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v >= 100 {
		n = v
	}
	evs := storetest.History(b, n, 42)
	ctx := context.Background()
	var c replayClock
	for i := 0; i < b.N; i++ {
		c.run(b, len(evs), func(s *pgcatalog.Store) {
			for j := 0; j < len(evs); j += 2000 {
				if err := s.Apply(ctx, evs[j:min(j+2000, len(evs))]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	c.report(b, len(evs))
}

// logSizes logs the rows and bytes of each table and index of the read model,
// and the bytes per event of the events folded.
func logSizes(b *testing.B, s *pgcatalog.Store, events int) {
	b.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i') ORDER BY 3 DESC`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var tuples, size int64
		if err := rows.Scan(&name, &tuples, &size); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-24s %9d rows %8.1f MB %6.0f B/event", name, tuples, float64(size)/1e6, float64(size)/float64(events))
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}
