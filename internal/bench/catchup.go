package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
)

// CatchUpResult is when the read models that fold after the catalog (the
// history, the badges and the badge evaluator, which wait for the catalog
// first) had folded every event of the ingestion, in seconds after every
// entity was queryable (production mode: read from the positions they record
// in PostgreSQL, every catchUpPoll). Zero: not seen before the bench stopped
// watching.
type CatchUpResult struct {
	// HistorySeconds is when the history had folded the ingestion's events.
	HistorySeconds float64 `json:"historySeconds"`
	// BadgesSeconds is when the badges' read model and the evaluator had both
	// folded them.
	BadgesSeconds float64 `json:"badgesSeconds"`
	// LatencyPhaseSeconds is when the latency phase measured during the
	// catch-up (CatalogResult.Latency) ended: those requests overlapped the
	// catch-up while it is below HistorySeconds and BadgesSeconds.
	LatencyPhaseSeconds float64 `json:"latencyPhaseSeconds"`
}

// catchUpPoll is how often catchUpWatch reads the positions.
const catchUpPoll = 200 * time.Millisecond

// catchUpWait bounds the wait for the catch-up before the steady phase.
const catchUpWait = 10 * time.Minute

// catchUpWatch watches a production bench's database from the moment every
// entity was queryable until the history and the badges folded what the
// catalog had folded then.
type catchUpWatch struct {
	start time.Time
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu      sync.Mutex
	history time.Duration
	badges  time.Duration
	err     error
	done    chan struct{} // closed once both are seen, or the watch failed
}

// watchCatchUp starts watching the database at dbURL; the ingestion's events
// are the catalog's positions as recorded now.
func watchCatchUp(dbURL string) (*catchUpWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("catch-up watch: %w", err)
	}
	w := &catchUpWatch{start: time.Now(), stop: cancel, done: make(chan struct{})}
	ingested, err := readPositions(ctx, conn, "positions", "catalog")
	if err != nil {
		cancel()
		conn.Close(context.Background())
		return nil, err
	}
	w.wg.Go(func() {
		defer conn.Close(context.Background())
		w.run(ctx, conn, ingested)
	})
	return w, nil
}

// run polls until both are seen or ctx ends.
func (w *catchUpWatch) run(ctx context.Context, conn *pgx.Conn, ingested event.Positions) {
	defer close(w.done)
	t := time.NewTicker(catchUpPoll)
	defer t.Stop()
	for {
		since := time.Since(w.start)
		hist, err := readPositions(ctx, conn, "history_positions", "history")
		var badges, evaluated event.Positions
		if err == nil {
			badges, err = readPositions(ctx, conn, "badge_positions", "badges")
		}
		if err == nil {
			evaluated, err = readPositions(ctx, conn, "badge_positions", "evaluator")
		}
		w.mu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				w.err = err
			}
			w.mu.Unlock()
			return
		}
		if w.history == 0 && hist.Covers(ingested) {
			w.history = since
		}
		if w.badges == 0 && badges.Covers(ingested) && evaluated.Covers(ingested) {
			w.badges = since
		}
		both := w.history > 0 && w.badges > 0
		w.mu.Unlock()
		if both {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// wait returns once both are seen, the watch failed, or within ends.
func (w *catchUpWatch) wait(within time.Duration) {
	select {
	case <-w.done:
	case <-time.After(within):
	}
}

// result stops the watch and answers what it saw; phaseEnd is when the
// latency phase during the catch-up ended.
func (w *catchUpWatch) result(phaseEnd time.Time) (*CatchUpResult, error) {
	w.stop()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return &CatchUpResult{HistorySeconds: w.history.Seconds(), BadgesSeconds: w.badges.Seconds(),
		LatencyPhaseSeconds: phaseEnd.Sub(w.start).Seconds()}, w.err
}

// readPositions reads the positions a read model records under name in
// table (the layout of pgkit's positions tables).
func readPositions(ctx context.Context, conn *pgx.Conn, table, name string) (event.Positions, error) {
	rows, err := conn.Query(ctx, `SELECT partition, position FROM `+pgx.Identifier{table}.Sanitize()+` WHERE name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("catch-up watch: read %s: %w", table, err)
	}
	defer rows.Close()
	out := event.Positions{}
	for rows.Next() {
		var part int32
		var pos int64
		if err := rows.Scan(&part, &pos); err != nil {
			return nil, fmt.Errorf("catch-up watch: read %s: %w", table, err)
		}
		out[part] = pos
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catch-up watch: read %s: %w", table, err)
	}
	return out, nil
}
