package badging_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/projector"
)

// countingWaiter counts its waits.
type countingWaiter struct {
	projector.Waiter
	waits atomic.Int32
}

func (w *countingWaiter) WaitFor(ctx context.Context, want event.Positions) error {
	w.waits.Add(1)
	return w.Waiter.WaitFor(ctx, want)
}

// TestAReportRatedInTimeWaitsOnce checks that a fact report whose badges
// are rated in time answers without waiting on the badge read model as
// well (the evaluator rates a position only once it is folded), that one
// whose badges are not rated in time still answers once its facts are
// readable, and that the rated report's badges are readable when it
// answers.
func TestAReportRatedInTimeWaitsOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("web", "production"))
	w.upsert(policyBody(t))
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	go w.eval.Run(ctx)
	heads, err := w.log.Heads(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.catProj.WaitFor(w.ctx, heads); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		evaluated func(context.Context, event.Positions) error
		waits     int32
	}{
		{"rated in time", w.eval.WaitHandled, 0},
		{"not rated in time", func(context.Context, event.Positions) error { return errors.New("the evaluator is elsewhere") }, 1},
	} {
		waiter := &countingWaiter{Waiter: w.badgeProj}
		svc, err := badging.NewFactService(badging.FactServiceConfig{Log: w.log, Catalog: w.catalog, Store: w.badges, Waiter: waiter,
			Evaluated: c.evaluated, EvaluationWait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		pos, err := svc.Report(w.ctx, "user:default/test", []badging.FactItem{{Entity: "component:default/web", Source: "ci", Facts: json.RawMessage(`{"coverage": 91}`)}})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := waiter.waits.Load(); got != c.waits {
			t.Errorf("%s: %d waits on the badge read model, want %d", c.name, got, c.waits)
		}
		if got, err := w.badges.Positions(w.ctx); err != nil || !got.Covers(pos) {
			t.Errorf("%s: the badge read model is at %v (%v) when the report at %v answers", c.name, got, err, pos)
		}
		if c.waits == 0 {
			if bs, err := w.badges.Badges(w.ctx, "component:default/web"); err != nil || len(bs) != 1 || bs[0].Level != "silver" {
				t.Errorf("%s: web's verdicts when the report answers: %+v (%v)", c.name, bs, err)
			}
		}
	}
}
