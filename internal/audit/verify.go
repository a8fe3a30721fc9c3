package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/history"
)

// verifyAll checks the embedded log's hash chain, then the history read model
// against the log: every event the history recorded must be in the log with the
// same digest (so an event deleted from the log is named by its id), and every
// version must be what a fresh fold of the log makes (so a history row edited
// behind Backlot's back is named by the event that made it).
func verifyAll(ctx context.Context, log *sqlitelog.Log, hist history.Reader, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
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
		digests := make(map[int64]string, len(evs))
		for i := range evs {
			byPos[evs[i].Position] = &evs[i]
		}
		for _, d := range digestAll(evs) {
			digests[d.pos] = d.digest
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
			case ev.ID != d.EventID || digests[d.Position] != d.Digest:
				rep.Problems = append(rep.Problems, event.Problem{Position: d.Position, EventID: d.EventID, Kind: "history",
					Detail: fmt.Sprintf("the history recorded event %s at position %d; the log holds %s there, or different content", d.EventID, d.Position, ev.ID)})
			}
		}
		done += int64(len(ds))
		step(1)(done, total)
		after = ds[len(ds)-1].Pos
	}

	// Re-fold the log into a fresh history, in memory, and compare version
	// by version.
	want, err := refoldHistory(ctx, log, step(2))
	if err != nil {
		return rep, fmt.Errorf("re-fold the history: %w", err)
	}
	live, err := hist.Changes(ctx, history.Pos{}, 0)
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

// posDigest is an event's position and digest.
type posDigest struct {
	pos    int64
	digest string
}

// digestAll computes the digest of every event, on every core.
func digestAll(evs []event.Envelope) []posDigest {
	out := make([]posDigest, len(evs))
	each(context.Background(), len(evs), 1, func(i int) {
		out[i] = posDigest{evs[i].Position, event.Digest(&evs[i])}
	})
	return out
}

// refoldHistory folds the whole log with the history's pure fold, in memory,
// and returns every version it makes, in log order, with ValidTo set on those
// a later event closed: what a fresh history read model would answer to
// Changes from the start.
func refoldHistory(ctx context.Context, log *sqlitelog.Log, progress func(done, total int64)) ([]history.Version, error) {
	type numbered struct {
		key    string
		number int
	}
	var versions []history.Version
	at := map[numbered]int{}
	heads := map[string]history.Head{}
	locs := map[string]string{}
	var pos int64
	for {
		evs, err := log.Read(ctx, pos, 2000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return versions, nil
		}
		b, err := history.Decode(evs, event.Positions{0: pos})
		if err != nil {
			return nil, err
		}
		bLocs := map[string]string{}
		for _, id := range b.LocationIDs() {
			if k, ok := locs[id]; ok {
				bLocs[id] = k
			}
		}
		bHeads := map[string]history.Head{}
		for _, k := range b.Keys(bLocs) {
			if h, ok := heads[k]; ok {
				bHeads[k] = h
			}
		}
		ch, err := b.Fold(bHeads, bLocs)
		if err != nil {
			return nil, err
		}
		for _, c := range ch.Closed {
			to := c.To
			versions[at[numbered{c.Key, c.Number}]].ValidTo = &to
		}
		for _, v := range ch.New {
			at[numbered{v.Key, v.Number}] = len(versions)
			versions = append(versions, v)
			heads[v.Key] = history.HeadOf(&v)
		}
		for _, id := range ch.DeleteLocations {
			delete(locs, id)
		}
		for _, l := range ch.PutLocations {
			locs[l.ID] = l.Key
		}
		pos = evs[len(evs)-1].Position
		progress(pos, 0)
	}
}
