package sqlitecatalog_test

import (
	"bytes"
	"context"
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

// dumpOf dumps every table of a SQLite read model, search rows included.
func dumpOf(t *testing.T, s *sqlitecatalog.Store) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSQLiteTablesDoNotDependOnBatches checks the SQLite tables themselves, not
// only the answers: the same events in other batch sizes write the same rows.
func TestSQLiteTablesDoNotDependOnBatches(t *testing.T) {
	t.Parallel()
	evs := storetest.Components(t, 0, 50)
	a, b, c := openStore(t), openStore(t), openStore(t)
	storetest.ApplyInBatches(t, a, evs, 50)
	storetest.ApplyInBatches(t, b, evs, 7)
	storetest.ApplyInBatches(t, c, evs, 1)
	if dumpOf(t, a) != dumpOf(t, b) {
		t.Fatal("the SQLite tables depend on batch boundaries")
	}
	if dumpOf(t, a) != dumpOf(t, c) {
		t.Fatal("the SQLite tables of one batch differ from those of one event at a time")
	}
	// Applying again writes nothing.
	before := dumpOf(t, a)
	storetest.ApplyInBatches(t, a, evs, 13)
	if dumpOf(t, a) != before {
		t.Fatal("applying a batch twice changed the SQLite tables")
	}
}
