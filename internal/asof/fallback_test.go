package asof_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// TestSnapshotWhereTheHistoryCannotAnswer: a history file written before it
// kept the catalog rows (its marker records a position above 0) and an
// instant naming another partition are answered by a built read model, with
// the same entities; a history that keeps them answers directly.
func TestSnapshotWhereTheHistoryCannotAnswer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "history.db")
	hist, err := sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 30, 3), 40)
	ctx := context.Background()
	cats, err := asof.New(hist, filepath.Join(dir, "asof"))
	if err != nil {
		t.Fatal(err)
	}
	defer cats.Close()
	at := history.AtPositions(event.Positions{0: 50})
	direct, err := cats.At(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, built := direct.(*sqlitecatalog.Store); built {
		t.Fatal("a history keeping catalog rows: a read model was built")
	}
	want, err := direct.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil || want.TotalItems != 30 {
		t.Fatalf("%d entities at position 50, %v; want 30", want.TotalItems, err)
	}

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

	// As a file from before the catalog rows were kept records it.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE history_positions SET position = 7 WHERE name = 'history-catalog-rows'`); err != nil {
		t.Fatal(err)
	}
	if _, err := hist.CatalogAt(ctx, at); !errors.Is(err, history.ErrNoCatalogRows) {
		t.Fatalf("a history without the rows of its first versions: %v, want ErrNoCatalogRows", err)
	}
	old, err := cats.At(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, built := old.(*sqlitecatalog.Store); !built {
		t.Fatalf("a history without catalog rows answered by %T, want a built read model", old)
	}
	got, err := old.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalItems != want.TotalItems || pageKeys(got)[0] != pageKeys(want)[0] {
		t.Fatalf("built: %d entities %v, direct: %d %v", got.TotalItems, pageKeys(got), want.TotalItems, pageKeys(want))
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
	r, err := hist.CatalogAt(context.Background(), history.AtPositions(event.Positions{0: 8}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Query(context.Background(), catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: catalogstore.CreationOrder, Values: []string{"3"}}}}})
	if err == nil || !strings.Contains(err.Error(), catalogstore.CreationOrder) {
		t.Fatalf("a filter on the creation order: %v, want an error naming it", err)
	}
}
