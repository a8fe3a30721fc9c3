package pgcatalog_test

import (
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestPostgresTablesDoNotDependOnBatches checks the PostgreSQL tables
// themselves, not only the answers: a history of registrations, edits,
// removals and errors applied in one batch, in batches of 7 and one event at
// a time writes the same rows, and applying it again writes nothing.
func TestPostgresTablesDoNotDependOnBatches(t *testing.T) {
	t.Parallel()
	evs := storetest.History(t, 150, 3)
	all, sevens, ones := openStore(t), openStore(t), openStore(t)
	storetest.ApplyInBatches(t, all, evs, len(evs))
	storetest.ApplyInBatches(t, sevens, evs, 7)
	storetest.ApplyInBatches(t, ones, evs, 1)
	want := storetest.PostgresTables(t, all)
	// The first section, up to the next header, is the entities' header and rows.
	entities := strings.SplitN(want, "\n## ", 2)[0]
	if n := strings.Count(entities, "\n"); n < 100 {
		t.Fatalf("the entities table holds %d rows, want 100 or more", n)
	}
	if got := storetest.PostgresTables(t, sevens); got != want {
		t.Fatal("the PostgreSQL tables depend on batch boundaries")
	}
	if got := storetest.PostgresTables(t, ones); got != want {
		t.Fatal("the PostgreSQL tables of one batch differ from those of one event at a time")
	}
	storetest.ApplyInBatches(t, all, evs, 13)
	if storetest.PostgresTables(t, all) != want {
		t.Fatal("applying a batch twice changed the PostgreSQL tables")
	}
}
