package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// sizingGate is a SizingGate that answers limit and counts its entries.
type sizingGate struct {
	limit   int
	entered int
}

func (g *sizingGate) Enter(ctx context.Context, partition int32) (func(), error) {
	g.entered++
	return func() {}, nil
}

func (g *sizingGate) EnterSized(ctx context.Context, partition int32, size int) (int, func(), error) {
	g.entered++
	return g.limit, func() {}, nil
}

// TestHistoryBatchesGiveWayToAFullEvaluation checks badgesFirst: a batch
// waits while a full evaluation runs, until it ends or maxWait passes, and
// then enters the inner gate with its size; without an evaluation running or
// an evaluator at all it enters at once.
func TestHistoryBatchesGiveWayToAFullEvaluation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	running := make(chan struct{})
	inner := &sizingGate{limit: 7}
	g := &badgesFirst{inner: inner, idle: func() <-chan struct{} { return running }, maxWait: time.Minute}
	entered := make(chan int, 1)
	go func() {
		n, leave, err := g.EnterSized(ctx, 0, 500)
		if err != nil {
			t.Error(err)
		}
		leave()
		entered <- n
	}()
	select {
	case <-entered:
		t.Fatal("a history batch entered while a full evaluation ran")
	case <-time.After(100 * time.Millisecond):
	}
	close(running)
	select {
	case n := <-entered:
		if n != 7 || inner.entered != 1 {
			t.Errorf("entered with limit %d after %d inner entries, want the inner gate's 7 after 1", n, inner.entered)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a history batch did not enter once the full evaluation ended")
	}

	// An evaluation that lasts longer than maxWait lets a batch in each maxWait.
	g = &badgesFirst{idle: func() <-chan struct{} { return make(chan struct{}) }, maxWait: 50 * time.Millisecond}
	start := time.Now()
	n, _, err := g.EnterSized(ctx, 0, 500)
	if err != nil || n != 500 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("EnterSized during a long evaluation = %d, %v after %s, want 500 after maxWait (50ms)", n, err, time.Since(start))
	}
	// A canceled wait answers the context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := g.EnterSized(cctx, 0, 500); err == nil {
		t.Error("EnterSized with a canceled context succeeded")
	}
	// No evaluator: nothing held back, and a plain gate inside is entered.
	plain := &sizingGate{}
	g = &badgesFirst{inner: struct{ gateOnly }{gateOnly{plain}}, maxWait: time.Hour}
	if n, _, err := g.EnterSized(ctx, 0, 500); err != nil || n != 500 || plain.entered != 1 {
		t.Errorf("EnterSized with no evaluator = %d, %v (%d inner entries), want 500 at once through the inner gate", n, err, plain.entered)
	}
}

// gateOnly hides a gate's EnterSized: a projector.Gate that is not a SizingGate.
type gateOnly struct{ g *sizingGate }

func (o gateOnly) Enter(ctx context.Context, partition int32) (func(), error) {
	return o.g.Enter(ctx, partition)
}

// TestBadgeFoldGivesWayToAFullRating checks the projector role's wiring: the
// badges' projector's gate waits on the evaluator's NoFullRating, over the
// gate it had before (catalogFirst's), and the history's on NoFullEvaluation.
func TestBadgeFoldGivesWayToAFullRating(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	cat, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	bs, err := sqlitebadges.Open(filepath.Join(dir, "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	r, err := newProjectorRole(projectorDeps{Log: event.SinglePartition(raw), Catalog: cat, History: hist, Badges: bs, AllPartitions: true, CatalogFirst: true,
		Run: runEachOverTheLog, Logger: slog.New(slog.DiscardHandler)}, &Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	g := r.badgesHold
	if g == nil || g.idle == nil {
		t.Fatal("the badges' projector has no gate that gives way to a full rating")
	}
	if g.idle() != r.evaluator.NoFullRating() {
		t.Error("the badges' projector's gate waits on something else than the evaluator's NoFullRating")
	}
	if _, ok := g.inner.(*catalogFirst); !ok {
		t.Errorf("the badges' projector's gate wraps %T, want catalogFirst's gate", g.inner)
	}
	if g.maxWait <= 0 {
		t.Errorf("the badges' projector waits for a full rating without a bound (maxWait %s)", g.maxWait)
	}
}
