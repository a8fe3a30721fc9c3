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
// It reports CPU per event of the folds and of EndBulk apart.
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
