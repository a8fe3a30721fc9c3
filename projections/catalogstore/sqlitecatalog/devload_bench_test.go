package sqlitecatalog_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// BenchmarkDevLoad is BenchmarkBulkLoad with backlot dev's caches (an 8 MiB
// writer cache inside a 16 MiB page cache shared by every connection) and
// BACKLOT_BENCH_LOAD_N events (default 20,000): dev's first load at scale.
// It reports CPU per event of the folds and of EndBulk apart;
// BACKLOT_BENCH_LOAD_BATCH sets the batch (default dev's 500), and
// BACKLOT_BENCH_LOAD_CATALOG=generated folds a generated catalog's events
// instead of components alone: its relations point all over the catalog, as
// a real one's do, where each component's point to a few shared entities.
// At 50,000 that costs more than a minute of generation before the timer.
//
// At 100,000 events under a load of 11-19 on 2 cores: 169-177 cpu-µs/event
// for the folds and 31-33 for EndBulk. Two changes it measured did not help
// and were left out: no automatic checkpoint during the bulk load (one
// truncating checkpoint at its end) 197 and 49 (the log grew to the whole
// load, and every read of a page not cached searched it); batches of 2,000
// 188 against 191 for 500 back to back (load 18-19), no fewer page writes
// worth the memory of a batch four times as large.
//
// A generated catalog of 50,000 events, back to back under a load of 11-20
// on 2 cores: with relations_target kept through a live load, 246-272
// cpu-µs/event for the folds and 42-52 for EndBulk; with
// relations_target_bulk in its place, 159-164 and 48-54.
func BenchmarkDevLoad(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_LOAD_N")); err == nil && v > 0 {
		n = v
	}
	_ = sqlitekit.SharePageCache(16384) // too late when tests ran first: then each cache is its own
	batch := 500
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_LOAD_BATCH")); err == nil && v > 0 {
		batch = v
	}
	evs := upserts(b, 0, n)
	if os.Getenv("BACKLOT_BENCH_LOAD_CATALOG") == "generated" {
		// A generated catalog's life (storetest.History): entities of every
		// kind with relations toward each other, whose reverse relations
		// land all over relations_target, as the bench catalog's do.
		evs = storetest.History(b, n, 1)
		n = len(evs)
	}
	ctx := context.Background()
	var fold, end storetest.CPUMeter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{CacheKiB: 8192})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fold.Start()
		if err := s.BeginBulk(ctx); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < n; j += batch {
			if err := s.Apply(ctx, evs[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		fold.Stop()
		end.Start()
		if err := s.EndBulk(ctx); err != nil {
			b.Fatal(err)
		}
		end.Stop()
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	fold.Report(b, n*b.N)
	b.ReportMetric(float64(end.Spent().Microseconds())/float64(n*b.N), "end-cpu-µs/event")
}
