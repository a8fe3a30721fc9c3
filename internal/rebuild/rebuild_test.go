package rebuild_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
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
