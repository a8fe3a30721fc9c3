package sqlitecatalog_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestSQLiteStoreContract runs the store contract suite against the SQLite
// adapter, which folds the single-partition embedded log.
func TestSQLiteStoreContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) catalogstore.Store { return openStore(t) }, storetest.Features{Partitioned: false})
}

func openStore(t *testing.T) *sqlitecatalog.Store {
	t.Helper()
	return storetest.OpenSQLite(t)
}

// TestSQLiteTablesDoNotDependOnBatches checks the SQLite tables themselves, not
// only the answers: the same events in other batch sizes write the same rows.
func TestSQLiteTablesDoNotDependOnBatches(t *testing.T) {
	t.Parallel()
	evs := storetest.Components(t, 0, 50)
	a, pathA := storetest.OpenSQLiteFile(t)
	b, pathB := storetest.OpenSQLiteFile(t)
	c, pathC := storetest.OpenSQLiteFile(t)
	storetest.ApplyInBatches(t, a, evs, 50)
	storetest.ApplyInBatches(t, b, evs, 7)
	storetest.ApplyInBatches(t, c, evs, 1)
	if storetest.SQLiteTables(t, pathA) != storetest.SQLiteTables(t, pathB) {
		t.Fatal("the SQLite tables depend on batch boundaries")
	}
	if storetest.SQLiteTables(t, pathA) != storetest.SQLiteTables(t, pathC) {
		t.Fatal("the SQLite tables of one batch differ from those of one event at a time")
	}
	// Applying again writes nothing.
	before := storetest.SQLiteTables(t, pathA)
	storetest.ApplyInBatches(t, a, evs, 13)
	if storetest.SQLiteTables(t, pathA) != before {
		t.Fatal("applying a batch twice changed the SQLite tables")
	}
}
