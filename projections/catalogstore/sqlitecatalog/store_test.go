package sqlitecatalog_test

import (
	"context"
	"path/filepath"
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

// TestReplayFoldsAsOneEventAtATime folds a catalog's history both ways: one
// event at a time into a live store, and in a rebuild's bulk path (BeginReplay,
// batches of 500 without the secondary indexes, EndBulk) into another. Their
// tables and their answers must be the same.
func TestReplayFoldsAsOneEventAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.History(t, 300, 11)
	one, pathOne := storetest.OpenSQLiteFile(t)
	storetest.ApplyInBatches(t, one, evs, 1)
	bulk, pathBulk := storetest.OpenSQLiteFile(t)
	if err := bulk.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, bulk, evs, 500)
	if err := bulk.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if w, g := storetest.SQLiteTables(t, pathOne), storetest.SQLiteTables(t, pathBulk); w != g {
		t.Fatalf("the bulk replay wrote other rows than one event at a time (%d and %d bytes of dump)", len(w), len(g))
	}
	storetest.CompareReaders(t, one, bulk)
}

// TestSQLiteLaggingCounts runs the lagging cache's cases against SQLite.
func TestSQLiteLaggingCounts(t *testing.T) {
	t.Parallel()
	storetest.RunLag(t, func(t *testing.T, opts catalogstore.LagOptions) storetest.LagStore {
		s, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "catalog.db"), sqlitecatalog.Options{Lag: opts})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
