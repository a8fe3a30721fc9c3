package pghist_test

import (
	"context"
	"sync"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/pghist"
)

var (
	benchOnce  sync.Once
	benchStore *pghist.Store
)

// BenchmarkCurrent measures the catalog as of an instant with
// histtest.BenchEntities entities of ten versions each, loaded once per
// benchmark run.
func BenchmarkCurrent(b *testing.B) {
	n := histtest.BenchEntities()
	benchOnce.Do(func() {
		s, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
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

// BenchmarkApply measures Apply's throughput into a fresh database.
func BenchmarkApply(b *testing.B) {
	histtest.BenchApply(b, func(b *testing.B) history.Store {
		s, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// BenchmarkApplyKeepingCatalogRows measures Apply's throughput into a fresh
// database that keeps the catalog rows from its first batch: the fold of a
// history after its first read at an instant. cpu-µs/event counts this
// process alone, not PostgreSQL's.
func BenchmarkApplyKeepingCatalogRows(b *testing.B) {
	histtest.BenchApply(b, func(b *testing.B) history.Store {
		s, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.KeepCatalogRows(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	})
}
