package sqlitecatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestPreparedBatchesFoldAsOneEventAtATime folds a catalog's history (upserts,
// removals, locations) as a projector reading ahead does: each batch handed
// to Prepare while the batch before is applied, so Apply finds the next
// batch prepared and its own decoded; once, a batch prepared is applied from
// a copy, as after a read again, and so decoded anew. The tables must be
// those of one event at a time.
func TestPreparedBatchesFoldAsOneEventAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.History(t, 300, 11)
	one, pathOne := storetest.OpenSQLiteFile(t)
	storetest.ApplyInBatches(t, one, evs, 1)
	ahead, pathAhead := storetest.OpenSQLiteFile(t)
	if err := ahead.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	const size = 40
	next := evs[:min(size, len(evs))]
	ahead.Prepare(next)
	for i := 0; i < len(evs); i += size {
		cur := next
		if end := min(i+size, len(evs)); end < len(evs) {
			next = evs[end:min(end+size, len(evs))]
			ahead.Prepare(next)
		}
		if i == 2*size {
			cur = append(cur[:0:0], cur...) // read again: not the slice prepared
		}
		if err := ahead.Apply(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
	if err := ahead.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if w, g := storetest.SQLiteTables(t, pathOne), storetest.SQLiteTables(t, pathAhead); w != g {
		t.Fatalf("the prepared batches wrote other rows than one event at a time (%d and %d bytes of dump)", len(w), len(g))
	}
	storetest.CompareReaders(t, one, ahead)
	if n, want := ahead.PreparedUsed(), (len(evs)+size-1)/size-1; n != want {
		t.Errorf("%d batches folded as prepared, want %d: all but the one read again", n, want)
	}
}
