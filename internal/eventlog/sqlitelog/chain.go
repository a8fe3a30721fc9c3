package sqlitelog

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"backlot.dev/backlot/domain/event"
)

// chainBatch is how many events Verify and the link backfill read at a time.
const chainBatch = 2000

// fillLinks computes the links of rows stored before the log kept a hash chain
// (migration 0002), in one transaction.
func (l *Log) fillLinks(ctx context.Context) error {
	var missing int
	if err := l.wdb.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE link = ''`).Scan(&missing); err != nil || missing == 0 {
		return err
	}
	tx, err := l.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	link, after := event.GenesisLink, int64(0)
	for {
		rows, err := tx.QueryContext(ctx, readSQL, after, chainBatch)
		if err != nil {
			return err
		}
		evs, err := scanEvents(rows, chainBatch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			link = event.Link(link, &evs[i])
			if _, err := tx.ExecContext(ctx, `UPDATE events SET link = ? WHERE position = ?`, link, evs[i].Position); err != nil {
				return err
			}
		}
		after = evs[len(evs)-1].Position
	}
	return tx.Commit()
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Checkpoints are links recorded outside the log, by position.
	Checkpoints map[int64]string
	// Progress, when set, is called after each batch with the events read so
	// far and the log's event count.
	Progress func(done, total int64)
}

// Verify recomputes the hash chain from the first event and compares it with
// the links stored beside each event and with the given checkpoints.
//
// Positions are gap-free, so a deleted event shows as missing positions. Each
// stored link says which event came before: an event is named altered when its
// content does not chain from any nearby stored link (it was changed or
// inserted), and moved when it chains from an event that is not its
// predecessor now (events were swapped or reordered).
func (l *Log) Verify(ctx context.Context, opts VerifyOptions) (event.VerifyReport, error) {
	if l.closed.Load() {
		return event.VerifyReport{}, event.ErrClosed
	}
	total, err := l.Count(ctx)
	if err != nil {
		return event.VerifyReport{}, err
	}
	v := &verifier{opts: opts, link: event.GenesisLink, index: map[string]int64{event.GenesisLink: 0}}
	query := strings.Replace(selectColumns, "data FROM events", "data, link FROM events", 1) + ` WHERE position > ? ORDER BY position LIMIT ?`
	for {
		rows, err := l.rdb.QueryContext(ctx, query, v.after, chainBatch)
		if err != nil {
			return v.rep, l.fail("verify", err)
		}
		n, err := v.rows(rows)
		if err != nil {
			return v.rep, l.fail("verify", err)
		}
		if opts.Progress != nil {
			opts.Progress(v.rep.Events, total)
		}
		if n == 0 {
			break
		}
	}
	v.flush(0)
	v.rep.Head, v.rep.HeadLink = v.after, v.link
	for pos := range opts.Checkpoints {
		if pos > v.after {
			v.rep.Problems = append(v.rep.Problems, event.Problem{Position: pos, Kind: "checkpoint",
				Detail: fmt.Sprintf("a checkpoint names position %d but the log ends at %d: events were removed from its end", pos, v.after)})
		}
	}
	sort.SliceStable(v.rep.Problems, func(i, j int) bool { return v.rep.Problems[i].Position < v.rep.Problems[j].Position })
	return v.rep, nil
}

// window is how many events Verify holds while it looks for the event another
// one chains from; events moved farther than that are reported as altered.
const window = 64

// verifier is the state of one Verify run.
type verifier struct {
	opts  VerifyOptions
	rep   event.VerifyReport
	link  string // the chain recomputed from the events as they are
	after int64  // the last position read
	// index maps a stored link to the original place of its event: one more
	// than the place of the event it chains from.
	index  map[string]int64
	recent []string     // stored links of the last window events
	wait   []pendingRow // events whose predecessor has not been seen yet
}

type pendingRow struct {
	e      event.Envelope
	stored string // the link stored with it
	digest string // its event.Digest
}

// rows checks one batch; it returns how many rows it read. The batch's
// digests are computed first, on every core; the chain then follows them in
// order.
func (v *verifier) rows(rows *sql.Rows) (int, error) {
	defer rows.Close()
	var batch []pendingRow
	var attrs [packedAttributes]string
	for rows.Next() {
		var (
			p      pendingRow
			ns     int64
			packed string
		)
		if err := rows.Scan(&p.e.Position, &ns, &packed, (*driverBytes)(&p.e.Data), &p.stored); err != nil {
			return len(batch), err
		}
		if err := unpack(&p.e, ns, packed, &attrs); err != nil {
			return len(batch), err
		}
		batch = append(batch, p)
	}
	if err := rows.Err(); err != nil {
		return len(batch), err
	}
	digestAll(batch)
	for _, p := range batch {
		v.rep.Events++
		v.event(p)
	}
	return len(batch), nil
}

// digestAll sets the digest of every row, on every core.
func digestAll(rows []pendingRow) {
	workers := min(runtime.GOMAXPROCS(0), len(rows)/64)
	if workers < 2 {
		for i := range rows {
			rows[i].digest = event.Digest(&rows[i].e)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(rows) + workers - 1) / workers
	for lo := 0; lo < len(rows); lo += per {
		part := rows[lo:min(lo+per, len(rows))]
		wg.Go(func() {
			for i := range part {
				part[i].digest = event.Digest(&part[i].e)
			}
		})
	}
	wg.Wait()
}

func (v *verifier) event(p pendingRow) {
	e := &p.e
	if e.Position != v.after+1 {
		v.rep.Problems = append(v.rep.Problems, event.Problem{Position: v.after + 1, Kind: "missing",
			Detail: fmt.Sprintf("positions %d to %d are missing: %d events were deleted before event %s", v.after+1, e.Position-1, e.Position-1-v.after, e.ID)})
		// Its predecessor is gone: take its place as the original one.
		v.place(p, e.Position)
	} else {
		v.wait = append(v.wait, p)
		v.resolve()
	}
	v.link = event.LinkDigest(v.link, p.digest)
	if want, ok := v.opts.Checkpoints[e.Position]; ok && want != v.link {
		v.rep.Problems = append(v.rep.Problems, event.Problem{Position: e.Position, EventID: e.ID, Kind: "checkpoint",
			Detail: fmt.Sprintf("the chain at position %d is %s, the checkpoint says %s", e.Position, v.link, want)})
	}
	v.after = e.Position
	v.flush(window)
}

// place records where an event originally stood and reports it when that is
// not where it stands now.
func (v *verifier) place(p pendingRow, original int64) {
	e, stored := &p.e, p.stored
	v.index[stored] = original
	v.recent = append(v.recent, stored)
	if len(v.recent) > window {
		delete(v.index, v.recent[0])
		v.recent = v.recent[1:]
	}
	if original != e.Position {
		v.rep.Problems = append(v.rep.Problems, event.Problem{Position: e.Position, EventID: e.ID, Kind: "moved",
			Detail: fmt.Sprintf("event %s (%s, %s) stands at position %d but was written at %d: events were reordered", e.ID, e.Type, e.Subject, e.Position, original)})
	}
}

// resolve places every waiting event whose predecessor is now known, until no
// more can be placed.
func (v *verifier) resolve() {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(v.wait); i++ {
			w := v.wait[i]
			if at, ok := v.predecessor(w); ok {
				v.place(w, at+1)
				v.wait = append(v.wait[:i], v.wait[i+1:]...)
				progress = true
				break
			}
		}
	}
}

// predecessor finds the stored link w chains from among the recent ones and
// returns the place of its event. The last link placed is tried first: in a log
// nothing altered, it is the one. A link is SHA-256, so at most one matches.
func (v *verifier) predecessor(w pendingRow) (int64, bool) {
	if n := len(v.recent); n > 0 {
		prev := v.recent[n-1]
		if at, ok := v.index[prev]; ok && event.LinkDigest(prev, w.digest) == w.stored {
			return at, true
		}
	}
	for prev, at := range v.index {
		if event.LinkDigest(prev, w.digest) == w.stored {
			return at, true
		}
	}
	return 0, false
}

// flush reports as altered the waiting events more than keep positions old:
// nothing near them chains to them, so their content is not what was written.
func (v *verifier) flush(keep int) {
	for len(v.wait) > 0 && v.after-v.wait[0].e.Position >= int64(keep) {
		w := v.wait[0]
		v.wait = v.wait[1:]
		v.rep.Problems = append(v.rep.Problems, event.Problem{Position: w.e.Position, EventID: w.e.ID, Kind: "altered",
			Detail: fmt.Sprintf("event %s (%s, %s) does not hash to the link stored with it: it was changed or inserted", w.e.ID, w.e.Type, w.e.Subject)})
		// Later events chain from its stored link: keep that link's place.
		v.index[w.stored] = w.e.Position
		v.recent = append(v.recent, w.stored)
		v.resolve()
	}
}
