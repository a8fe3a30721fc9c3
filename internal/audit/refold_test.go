package audit

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// TestRefoldMakesWhatAFreshHistoryHolds folds two logs (generated versions,
// and a catalog's whole life with locations registered and removed) into a
// fresh SQLite history, as verification did before, and in memory with
// refoldHistory: every version, in order, must be the same, field by field.
func TestRefoldMakesWhatAFreshHistoryHolds(t *testing.T) {
	t.Parallel()
	for name, evs := range map[string][]event.Envelope{
		"generated": histtest.Generate(t, 3, 2500),
		"catalog":   storetest.History(t, 200, 5),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			for i := range evs {
				evs[i].Position = 0
			}
			if _, err := log.Append(ctx, evs); err != nil {
				t.Fatal(err)
			}
			fresh, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			for pos := int64(0); ; {
				batch, err := log.Read(ctx, pos, 700)
				if err != nil {
					t.Fatal(err)
				}
				if len(batch) == 0 {
					break
				}
				if err := fresh.Apply(ctx, batch); err != nil {
					t.Fatal(err)
				}
				pos = batch[len(batch)-1].Position
			}
			want, err := fresh.Changes(ctx, history.Pos{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			got, err := refoldHistory(ctx, log, func(done, _ int64) { calls++ })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(want) < 100 || calls == 0 {
				t.Fatalf("refold made %d versions (%d progress calls), the fresh history holds %d", len(got), calls, len(want))
			}
			closed := 0
			for i := range want {
				if a, b := versionJSON(got[i]), versionJSON(want[i]); a != b {
					t.Fatalf("version %d differs:\nrefold: %s\nfresh:  %s", i, a, b)
				}
				if want[i].ValidTo != nil {
					closed++
				}
			}
			if closed == 0 {
				t.Error("no version was closed: the log has no second versions")
			}
		})
	}
}
