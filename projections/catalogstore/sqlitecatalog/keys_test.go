package sqlitecatalog_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestSearchKeyIDsSurviveAReopen: a store that folds half of a history,
// closes, and folds the rest after opening again (its map of search key ids
// rebuilt from search_keys, by hashes drawn anew) writes the same rows as a
// store that folds it all in one go: every key keeps its id, and a key seen
// before the reopen is not given a second one.
func TestSearchKeyIDsSurviveAReopen(t *testing.T) {
	t.Parallel()
	evs := storetest.History(t, 200, 7)
	whole, pathWhole := storetest.OpenSQLiteFile(t)
	storetest.ApplyInBatches(t, whole, evs, 50)

	first, path := storetest.OpenSQLiteFile(t)
	half := len(evs) / 2
	storetest.ApplyInBatches(t, first, evs[:half], 50)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	storetest.ApplyInBatches(t, again, evs[half:], 50)
	if w, g := storetest.SQLiteTables(t, pathWhole), storetest.SQLiteTables(t, path); w != g {
		t.Fatalf("folding across a reopen wrote other rows than in one go (%d and %d bytes of dump)", len(w), len(g))
	}
	storetest.CompareReaders(t, whole, again)
}
