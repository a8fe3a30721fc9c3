package asof_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// TestSnapshotUntilTheRowsAreKept: a history that does not keep the catalog
// rows yet answers its first read at an instant with a built read model and
// starts building the rows; once they are kept (and after the file is opened
// again) it answers directly, with the same entities. An instant naming
// another partition is always answered by a built read model.
func TestSnapshotUntilTheRowsAreKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "history.db")
	hist, err := sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 30, 3), 40)
	ctx := context.Background()
	cats, err := asof.New(hist, filepath.Join(dir, "asof"))
	if err != nil {
		t.Fatal(err)
	}
	defer cats.Close()
	at := history.AtPositions(event.Positions{0: 50})
	first, err := cats.At(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, built := first.(*sqlitecatalog.Store); !built {
		t.Fatalf("the first read of a history without catalog rows answered by %T, want a built read model", first)
	}
	want, err := first.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil || want.TotalItems != 30 {
		t.Fatalf("%d entities at position 50, %v; want 30", want.TotalItems, err)
	}
	// Waits for the build the first read started.
	if err := hist.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 35, 4)[90:], 7)
	for _, reopen := range []bool{false, true} {
		if reopen {
			hist.Close()
			if hist, err = sqlitehist.Open(path, sqlitehist.Options{}); err != nil {
				t.Fatal(err)
			}
			if cats, err = asof.New(hist, filepath.Join(dir, "asof2")); err != nil {
				t.Fatal(err)
			}
			defer cats.Close()
		}
		direct, err := cats.At(ctx, history.AtPositions(event.Positions{0: 50}))
		if err != nil {
			t.Fatal(err)
		}
		if _, built := direct.(*sqlitecatalog.Store); built {
			t.Fatalf("reopened %v: a history keeping catalog rows: a read model was built", reopen)
		}
		got, err := direct.Query(ctx, catalogstore.PageQuery{CountTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.TotalItems != want.TotalItems || !reflect.DeepEqual(pageKeys(got), pageKeys(want)) {
			t.Fatalf("reopened %v: direct: %d entities %v, built: %d %v", reopen, got.TotalItems, pageKeys(got), want.TotalItems, pageKeys(want))
		}
		head, err := cats.At(ctx, history.AtPositions(event.Positions{0: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		if p, err := head.Query(ctx, catalogstore.PageQuery{CountTotal: true}); err != nil || p.TotalItems != 35 {
			t.Fatalf("reopened %v: %d entities after the rows were kept, %v; want 35", reopen, p.TotalItems, err)
		}
	}
	defer hist.Close()

	if _, err := hist.CatalogAt(ctx, history.AtPositions(event.Positions{0: 50, 1: 3})); !errors.Is(err, history.ErrNoCatalogRows) {
		t.Fatalf("an instant of partition 1: %v, want ErrNoCatalogRows", err)
	}
	other, err := cats.At(ctx, history.AtPositions(event.Positions{0: 50, 1: 3}))
	if err != nil {
		t.Fatal(err)
	}
	if _, built := other.(*sqlitecatalog.Store); !built {
		t.Fatalf("an instant of partition 1 answered by %T, want a built read model", other)
	}
}

// TestDirectRefusesTheCreationFilter: the catalog of an instant has no
// creation positions, so a filter on them is refused with an error naming it.
func TestDirectRefusesTheCreationFilter(t *testing.T) {
	t.Parallel()
	hist, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 5, 2), 10)
	if err := hist.KeepCatalogRows(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := hist.CatalogAt(context.Background(), history.AtPositions(event.Positions{0: 8}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Query(context.Background(), catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: catalogstore.CreationOrder, Values: []string{"3"}}}}})
	if err == nil || !strings.Contains(err.Error(), catalogstore.CreationOrder) {
		t.Fatalf("a filter on the creation order: %v, want an error naming it", err)
	}
}
