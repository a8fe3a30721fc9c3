package pghist_test

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/pghist"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// openStore opens a store on a fresh database of the test server.
func openStore(t testing.TB) *pghist.Store {
	t.Helper()
	s, err := pghist.Open(context.Background(), pgtest.URL(t), pghist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresHistoryContract runs the history contract suite against
// PostgreSQL, with the cases of a partitioned log.
func TestPostgresHistoryContract(t *testing.T) {
	t.Parallel()
	histtest.Run(t, func(t *testing.T) history.Store { return openStore(t) }, histtest.Features{Partitioned: true})
}

// TestSameHistoryAsSQLite folds generated histories into both adapters and
// compares everything they hold.
func TestSameHistoryAsSQLite(t *testing.T) {
	t.Parallel()
	for _, seed := range histtest.Seeds {
		evs := histtest.Generate(t, seed, 250)
		lite, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer lite.Close()
		pg := openStore(t)
		histtest.ApplyInBatches(t, lite, evs, 16)
		histtest.ApplyInBatches(t, pg, evs, 16)
		if got, want := histtest.Dump(t, pg), histtest.Dump(t, lite); got != want {
			t.Fatalf("seed %d: PostgreSQL and SQLite hold different histories", seed)
		}
	}
}

// TestPostgresHistoryContractKeepingCatalogRows runs the suite against a
// store that keeps the catalog rows from its first batch, concurrent
// applies of partitions included: the versions it keeps are the same.
func TestPostgresHistoryContractKeepingCatalogRows(t *testing.T) {
	t.Parallel()
	histtest.Run(t, func(t *testing.T) history.Store {
		s := openStore(t)
		if err := s.KeepCatalogRows(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}, histtest.Features{Partitioned: true})
}
