package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// verifyAll checks the embedded log's hash chain, then the history read model
// against the log: every event the history recorded must be in the log with the
// same digest (so an event deleted from the log is named by its id), and every
// version must be what a fresh fold of the log makes (so a history row edited
// behind Backlot's back is named by the event that made it).
func verifyAll(ctx context.Context, log *sqlitelog.Log, hist history.Reader, scratch string, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	total, err := log.Count(ctx)
	if err != nil {
		return event.VerifyReport{}, err
	}
	// Three passes over the log: the chain, the digests, the re-fold.
	step := func(pass int64) func(done, _ int64) {
		return func(done, _ int64) {
			if progress != nil {
				progress(pass*total+done, 3*total)
			}
		}
	}
	rep, err := log.Verify(ctx, sqlitelog.VerifyOptions{Checkpoints: checkpoints, Progress: step(0)})
	if err != nil {
		return rep, err
	}
	missing := map[int64]int{} // position → index of its "missing" problem
	for i, p := range rep.Problems {
		if p.Kind == "missing" {
			missing[p.Position] = i
		}
	}

	// Digests: what the history saw against what the log holds.
	var after history.Pos
	var done int64
	for {
		ds, err := hist.Digests(ctx, after, 2000)
		if err != nil {
			return rep, fmt.Errorf("history digests: %w", err)
		}
		if len(ds) == 0 {
			break
		}
		evs, err := log.Read(ctx, ds[0].Position-1, int(ds[len(ds)-1].Position-ds[0].Position+1))
		if err != nil {
			return rep, err
		}
		byPos := make(map[int64]*event.Envelope, len(evs))
		for i := range evs {
			byPos[evs[i].Position] = &evs[i]
		}
		for _, d := range ds {
			ev := byPos[d.Position]
			switch {
			case ev == nil:
				detail := fmt.Sprintf("event %s (%s, %s) is in the history at position %d but not in the log: it was deleted", d.EventID, d.Type, d.Subject, d.Position)
				if i, ok := findMissing(missing, d.Position, rep.Problems); ok {
					rep.Problems[i].EventID, rep.Problems[i].Detail = d.EventID, detail
				} else {
					rep.Problems = append(rep.Problems, event.Problem{Position: d.Position, EventID: d.EventID, Kind: "missing", Detail: detail})
				}
			case ev.ID != d.EventID || event.Digest(ev) != d.Digest:
				rep.Problems = append(rep.Problems, event.Problem{Position: d.Position, EventID: d.EventID, Kind: "history",
					Detail: fmt.Sprintf("the history recorded event %s at position %d; the log holds %s there, or different content", d.EventID, d.Position, ev.ID)})
			}
		}
		done += int64(len(ds))
		step(1)(done, total)
		after = ds[len(ds)-1].Pos
	}

	// Re-fold the log into a fresh history and compare version by version.
	dir, err := os.MkdirTemp(scratch, "verify-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	fresh, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		return rep, err
	}
	defer fresh.Close()
	var pos int64
	for {
		evs, err := log.Read(ctx, pos, 2000)
		if err != nil {
			return rep, err
		}
		if len(evs) == 0 {
			break
		}
		if err := fresh.Apply(ctx, evs); err != nil {
			return rep, fmt.Errorf("re-fold the history: %w", err)
		}
		pos = evs[len(evs)-1].Position
		step(2)(pos, total)
	}
	live, err := hist.Changes(ctx, history.Pos{}, 0)
	if err != nil {
		return rep, err
	}
	want, err := fresh.Changes(ctx, history.Pos{}, 0)
	if err != nil {
		return rep, err
	}
	wantBy := make(map[string]history.Version, len(want))
	for _, v := range want {
		wantBy[v.EventID] = v
	}
	for _, v := range live {
		w, ok := wantBy[v.EventID]
		if !ok {
			continue // its event is missing or altered in the log: reported above
		}
		if a, b := versionJSON(v), versionJSON(w); a != b {
			rep.Problems = append(rep.Problems, event.Problem{Position: v.ValidFrom.Position, EventID: v.EventID, Kind: "history",
				Detail: fmt.Sprintf("version %d of %s in the history differs from what event %s makes: the history was altered", v.Number, v.Key, v.EventID)})
		}
	}
	return rep, nil
}

// findMissing finds the "missing" problem that covers pos: it starts at or
// before pos and the gap it reports runs through pos.
func findMissing(missing map[int64]int, pos int64, ps []event.Problem) (int, bool) {
	for start, i := range missing {
		if start <= pos && ps[i].EventID == "" {
			return i, true
		}
	}
	return 0, false
}

func versionJSON(v history.Version) string {
	b, _ := json.Marshal(v)
	return string(b)
}
