package rebuild_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// TestCatalogReplaysTheLogIntoFreshReadModels rebuilds a data folder twice:
// each time the read models hold what a fold of the whole log makes, the old
// files are replaced, and no scratch file is left.
func TestCatalogReplaysTheLogIntoFreshReadModels(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := histtest.Generate(t, 11, 400)
	for i := range evs {
		evs[i].Position = 0
	}
	if _, err := log.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	stored, err := log.Read(ctx, 0, len(evs))
	if err != nil {
		t.Fatal(err)
	}
	log.Close()
	want, err := sqlitehist.Open(filepath.Join(t.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if err := want.Apply(ctx, stored); err != nil {
		t.Fatal(err)
	}
	wantDump := histtest.Dump(t, want)

	for round := range 2 {
		var progress bytes.Buffer
		stats, err := rebuild.Catalog(ctx, dir, &progress)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Events != int64(len(evs)) || stats.Rate() <= 0 {
			t.Fatalf("round %d: stats %+v, want %d events", round, stats, len(evs))
		}
		for _, what := range []string{"catalog: replayed 400/400", "history: replayed 400/400", "badges: replayed 400/400"} {
			if !strings.Contains(progress.String(), what) {
				t.Fatalf("round %d: progress %q lacks %q", round, progress.String(), what)
			}
		}
		hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := histtest.Dump(t, hist); got != wantDump {
			t.Fatalf("round %d: the rebuilt history differs from a fold of the log", round)
		}
		hist.Close()
		store, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pos, err := store.Positions(ctx)
		store.Close()
		if err != nil || pos[0] != int64(len(evs)) {
			t.Fatalf("round %d: the rebuilt catalog is at %v, want %d (%v)", round, pos, len(evs), err)
		}
		left, _ := filepath.Glob(filepath.Join(dir, "*.rebuild.db*"))
		if len(left) > 0 {
			t.Fatalf("round %d: scratch files left: %v", round, left)
		}
	}
}

func TestCatalogWithoutALogNamesTheFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := rebuild.Catalog(context.Background(), dir, nil)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("rebuild of a folder without a log: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.db")); !os.IsNotExist(err) {
		t.Fatalf("a failed rebuild made catalog.db: %v", err)
	}
}

// TestRebuildKeepsTheCatalogRowsTheHistoryHad: a history that kept the
// catalog rows of its versions (it had answered a read at an instant) keeps
// them after a rebuild, so the next read at an instant is answered directly;
// one that never kept them is rebuilt without them.
func TestRebuildKeepsTheCatalogRowsTheHistoryHad(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := histtest.Generate(t, 5, 300)
	for i := range evs {
		evs[i].Position = 0
	}
	if _, err := log.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	log.Close()
	path := filepath.Join(dir, "history.db")
	if _, err := rebuild.Catalog(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	if kept, err := sqlitehist.KeepsCatalogRows(path); err != nil || kept {
		t.Fatalf("a history that never kept the rows keeps them after a rebuild: %v, %v", kept, err)
	}
	// A read at an instant makes the history keep them.
	hist, err := sqlitehist.Open(path, sqlitehist.Options{KeepCatalogRows: true})
	if err != nil {
		t.Fatal(err)
	}
	hist.Close()
	var progress bytes.Buffer
	if _, err := rebuild.Catalog(ctx, dir, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "history: catalog rows of every version built") {
		t.Fatalf("progress %q does not tell of the rows", progress.String())
	}
	if kept, err := sqlitehist.KeepsCatalogRows(path); err != nil || !kept {
		t.Fatalf("the rebuilt history lost its catalog rows: %v, %v", kept, err)
	}
	hist, err = sqlitehist.Open(path, sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	head := history.AtPositions(event.Positions{0: int64(len(evs))})
	r, err := hist.CatalogAt(ctx, head)
	if err != nil {
		t.Fatalf("the rebuilt history does not answer at an instant directly: %v", err)
	}
	cur, err := hist.Current(ctx, head, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	page, err := r.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalItems != len(cur) || len(page.Items) != len(cur) || len(cur) == 0 {
		t.Fatalf("the catalog at the head holds %d entities (total %d), the history's versions %d", len(page.Items), page.TotalItems, len(cur))
	}
}
