package sqlitehist_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

var (
	benchOnce  sync.Once
	benchStore *sqlitehist.Store
	benchDir   string
)

// BenchmarkCurrent measures the catalog as of an instant with
// histtest.BenchEntities entities of ten versions each, loaded once per run of
// the benchmark binary.
func BenchmarkCurrent(b *testing.B) {
	n := histtest.BenchEntities()
	benchOnce.Do(func() {
		var err error
		benchDir, err = os.MkdirTemp("", "backlot-history-bench")
		if err != nil {
			b.Fatal(err)
		}
		s, err := sqlitehist.Open(filepath.Join(benchDir, "history.db"), sqlitehist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		histtest.LoadBench(b, s, n)
		benchStore = s
	})
	if benchStore == nil {
		b.Fatal("the benchmark history did not load")
	}
	histtest.BenchCurrent(b, benchStore, n, histtest.BenchVersions)
}

// BenchmarkApply measures Apply's throughput into a fresh store.
func BenchmarkApply(b *testing.B) {
	histtest.BenchApply(b, func(b *testing.B) history.Store {
		s, err := sqlitehist.Open(filepath.Join(b.TempDir(), "history.db"), sqlitehist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// BenchmarkApplyKeepingCatalogRows measures Apply's throughput into a fresh
// store that keeps the catalog rows from its first batch: the fold of a
// history after its first read at an instant.
func BenchmarkApplyKeepingCatalogRows(b *testing.B) {
	histtest.BenchApply(b, func(b *testing.B) history.Store {
		s, err := sqlitehist.Open(filepath.Join(b.TempDir(), "history.db"), sqlitehist.Options{KeepCatalogRows: true})
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// BenchmarkKeepCatalogRows measures the bulk build of the catalog rows of a
// history of 2,000 entities of BenchVersions versions each (what the first
// read at an instant starts), in versions per second.
func BenchmarkKeepCatalogRows(b *testing.B) {
	evs := histtest.BenchEvents(b, 2000, histtest.BenchVersions)
	for b.Loop() {
		b.StopTimer()
		s, err := sqlitehist.Open(filepath.Join(b.TempDir(), "history.db"), sqlitehist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		histtest.ApplyInBatches(b, s, evs, 5000)
		b.StartTimer()
		if err := s.KeepCatalogRows(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "versions/s")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
