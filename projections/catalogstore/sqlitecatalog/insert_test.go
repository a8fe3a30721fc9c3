package sqlitecatalog_test

import (
	"context"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestAFailedEntityInsertNamesItsEntity: the entity rows of a batch go in
// with statements that roll the whole transaction back when one fails (no
// statement journal); the Apply still fails naming the entity whose row
// could not be written (a uid another entity holds), and nothing of the
// batch is written, its position included.
func TestAFailedEntityInsertNamesItsEntity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, bulk := range []bool{false, true} {
		s, path := storetest.OpenSQLiteFile(t)
		if bulk {
			if err := s.BeginBulk(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Apply(ctx, storetest.Components(t, 0, 10)); err != nil {
			t.Fatal(err)
		}
		before := storetest.SQLiteTables(t, path)
		evs := storetest.Components(t, 10, 20)[10:]
		evs[4] = upsertWithUID(t, storetest.ComponentBody(999, 40), "uid-3", evs[4].Position)
		err := s.Apply(ctx, evs)
		if err == nil || !strings.Contains(err.Error(), "entity component:default/service-999") || !strings.Contains(err.Error(), "UNIQUE") {
			t.Fatalf("bulk %v: Apply of an entity with another's uid: %v; want it to name component:default/service-999", bulk, err)
		}
		if after := storetest.SQLiteTables(t, path); after != before {
			t.Fatalf("bulk %v: the failed batch changed the tables: %s", bulk, storetest.FirstDiff(before, after))
		}
		// The store writes on: the batch without the faulty entity.
		evs[4] = storetest.Components(t, 14, 1)[0]
		evs[4].Position = evs[3].Position + 1
		if err := s.Apply(ctx, evs); err != nil {
			t.Fatalf("bulk %v: after a failed batch: %v", bulk, err)
		}
	}
}
