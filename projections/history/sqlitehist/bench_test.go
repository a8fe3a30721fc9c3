package sqlitehist_test

import (
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

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
