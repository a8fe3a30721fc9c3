package pghist_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/pghist"
)

// benchEntities is how many entities the Current benchmark loads:
// BACKLOT_BENCH_HISTORY_ENTITIES or 100,000; each gets benchVersions versions.
func benchEntities() int {
	if n, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_HISTORY_ENTITIES")); err == nil && n > 0 {
		return n
	}
	return 100000
}

const benchVersions = 10

var (
	benchOnce  sync.Once
	benchStore *pghist.Store
)

// BenchmarkCurrent measures the catalog as of an instant with benchEntities
// entities of ten versions each, loaded once per benchmark run.
func BenchmarkCurrent(b *testing.B) {
	n := benchEntities()
	benchOnce.Do(func() {
		s, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		evs := histtest.BenchEvents(b, n, benchVersions)
		start := time.Now()
		histtest.ApplyInBatches(b, s, evs, 5000)
		b.Logf("loaded %d events in %v (%.0f events/s)", len(evs), time.Since(start), float64(len(evs))/time.Since(start).Seconds())
		benchStore = s
	})
	if benchStore == nil {
		b.Fatal("the benchmark history did not load")
	}
	histtest.BenchCurrent(b, benchStore, n, benchVersions)
}

// BenchmarkApply measures Apply's throughput: 2,000 entities of ten versions
// each, in batches of 1,000 events, into a fresh database.
func BenchmarkApply(b *testing.B) {
	evs := histtest.BenchEvents(b, 2000, benchVersions)
	for b.Loop() {
		b.StopTimer()
		s, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		histtest.ApplyInBatches(b, s, evs, 1000)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
