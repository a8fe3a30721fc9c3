package sqlitehist_test

import (
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// openStore opens a store on a fresh file of the test's temporary folder.
func openStore(t testing.TB) *sqlitehist.Store {
	t.Helper()
	s, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSQLiteHistoryContract runs the history contract suite against SQLite.
func TestSQLiteHistoryContract(t *testing.T) {
	t.Parallel()
	histtest.Run(t, func(t *testing.T) history.Store { return openStore(t) }, histtest.Features{})
}

// TestReopenKeepsHistory checks that the history survives closing the store.
func TestReopenKeepsHistory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := histtest.Generate(t, 5, 80)
	histtest.ApplyInBatches(t, s, evs, 40)
	want := histtest.Dump(t, s)
	s.Close()
	s, err = sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := histtest.Dump(t, s); got != want {
		t.Fatal("the reopened store holds another history")
	}
}

// TestSQLiteHistoryContractKeepingCatalogRows runs the suite against a store
// that keeps the catalog rows from its first batch: the versions it keeps
// are the same.
func TestSQLiteHistoryContractKeepingCatalogRows(t *testing.T) {
	t.Parallel()
	histtest.Run(t, func(t *testing.T) history.Store {
		s, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{KeepCatalogRows: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, histtest.Features{})
}
