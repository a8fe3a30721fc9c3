package pgcatalog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestOwnedExceptTheKeptFilesReadsTheOthers checks the path a refresh that
// keeps most of its location's files takes: the location's files are listed
// from the index, and only the entities of the files not kept are yielded.
func TestOwnedExceptTheKeptFilesReadsTheOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.Apply(ctx, storetest.Components(t, 0, 600)); err != nil {
		t.Fatal(err)
	}
	// Spread the location over 50 files, and move a tenth to another location.
	if _, err := s.Pool().Exec(ctx, `UPDATE entities e SET managed_by = 'file:/f-' || lpad((n.rn % 50)::text, 2, '0'), location_id = CASE WHEN n.rn % 10 = 3 THEN 'L2' ELSE e.location_id END
		FROM (SELECT eid, row_number() OVER (ORDER BY eid) AS rn FROM entities) n WHERE n.eid = e.eid`); err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := s.Pool().QueryRow(ctx, `SELECT array_agg(DISTINCT managed_by ORDER BY managed_by) FROM entities WHERE location_id = 'L1'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	files, err := pgcatalog.LocationFiles(ctx, s, "L1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, want) {
		t.Fatalf("location files %v, want %v", files, want)
	}
	sn, err := s.Snapshot(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	except := map[string]bool{}
	for i := range 50 {
		if i != 7 && i != 21 {
			except[fmt.Sprintf("file:/f-%02d", i)] = true
		}
	}
	var wantKeys []string
	if err := s.Pool().QueryRow(ctx, `SELECT array_agg(key ORDER BY managed_by, eid) FROM entities WHERE location_id = 'L1' AND managed_by IN ('file:/f-07', 'file:/f-21')`).Scan(&wantKeys); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range sn.Owned("L1", except) {
		if k.LocationID != "L1" {
			t.Fatalf("owned entity %s of location %s", k.Key, k.LocationID)
		}
		got = append(got, k.Key)
	}
	if len(wantKeys) == 0 || !slices.Equal(got, wantKeys) {
		t.Fatalf("Owned except 48 kept files yielded %v, want %v", got, wantKeys)
	}
	// Every file kept: nothing to yield.
	all := map[string]bool{}
	for _, f := range want {
		all[f] = true
	}
	for k := range sn.Owned("L1", all) {
		t.Fatalf("Owned except every file yielded %s", k.Key)
	}
}
