package bench

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestCatchUpWatchSeesTheHistoryAndTheBadgesCatchUp: the watch takes the
// catalog's positions when it starts as the ingestion's, sees the history
// once it covers them, and the badges only once the badges' read model and
// the evaluator both do.
func TestCatchUpWatchSeesTheHistoryAndTheBadgesCatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"positions", "history_positions", "badge_positions"} {
		exec(`CREATE TABLE ` + table + ` (name text, partition int, position bigint, PRIMARY KEY (name, partition))`)
	}
	set := func(table, name string, partition int, position int64) {
		t.Helper()
		exec(`INSERT INTO `+table+` VALUES ($1, $2, $3) ON CONFLICT (name, partition) DO UPDATE SET position = EXCLUDED.position`, name, partition, position)
	}
	set("positions", "catalog", 0, 100)
	set("positions", "catalog", 1, 50)
	set("history_positions", "history", 0, 100)
	set("badge_positions", "badges", 0, 100)
	set("badge_positions", "badges", 1, 50)

	w, err := watchCatchUp(url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	// The catalog moves on (an edit): the ingestion's positions stay those
	// the watch started with.
	set("positions", "catalog", 1, 60)
	time.Sleep(3 * catchUpPoll)
	w.mu.Lock()
	history, badges := w.history, w.badges
	w.mu.Unlock()
	if history != 0 || badges != 0 {
		t.Fatalf("caught up: history after %s, badges after %s; want neither (the history lacks partition 1, the evaluator every one)", history, badges)
	}
	set("history_positions", "history", 1, 50)
	set("badge_positions", "evaluator", 0, 100)
	set("badge_positions", "evaluator", 1, 50)
	w.wait(30 * time.Second)
	phaseEnd := time.Now()
	c, err := w.result(phaseEnd)
	if err != nil {
		t.Fatal(err)
	}
	if c.HistorySeconds <= 0 || c.BadgesSeconds <= 0 {
		t.Fatalf("caught up: %+v, want both seen", c)
	}
	if c.HistorySeconds < (3 * catchUpPoll).Seconds() {
		t.Fatalf("the history caught up after %.2fs, before its last partition was folded", c.HistorySeconds)
	}
	if c.LatencyPhaseSeconds < c.HistorySeconds {
		t.Fatalf("the latency phase ended at %.2fs, before what the watch saw (%+v)", c.LatencyPhaseSeconds, c)
	}
}
