package badging_test

import (
	"context"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
)

// appendWatch is a log that calls seen before each append.
type appendWatch struct {
	event.PartitionedLog
	seen func(evs []event.Envelope)
}

func (l appendWatch) Append(ctx context.Context, evs []event.Envelope) (int64, error) {
	l.seen(evs)
	return l.PartitionedLog.Append(ctx, evs)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestNoFullEvaluationIsOpenWhileAFullEvaluationRuns checks that the
// evaluator's NoFullEvaluation stays open while a new policy's full
// evaluation appends its verdicts, is closed once the step returns (its
// verdicts folded), and stays closed through an incremental evaluation.
func TestNoFullEvaluationIsOpenWhileAFullEvaluationRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("api", "production"))
	w.upsert(comp("web", "production", "component:api"))
	w.settle()
	var mu sync.Mutex
	var e *badging.Evaluator
	open := map[string]int{} // event type -> appends made while a full evaluation was marked
	closed := map[string]int{}
	log := appendWatch{PartitionedLog: w.log, seen: func(evs []event.Envelope) {
		mu.Lock()
		defer mu.Unlock()
		m := closed
		if !isClosed(e.NoFullEvaluation()) {
			m = open
		}
		for _, ev := range evs {
			m[ev.Type]++
		}
	}}
	e, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: log, Catalog: w.catalog, CatalogWaiter: w.catProj, Store: w.badges, StoreWaiter: w.badgeProj})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		for range 20 {
			if _, err := e.Step(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	step() // loads the (no) policies: a first step rates everything, with nothing to append
	if !isClosed(e.NoFullEvaluation()) {
		t.Fatal("NoFullEvaluation is open before any policy")
	}
	w.upsert(policyBody(t))
	step()
	if !isClosed(e.NoFullEvaluation()) {
		t.Error("NoFullEvaluation is open after the full evaluation's steps returned")
	}
	mu.Lock()
	if open[string(event.TypeBadgeAwarded)] != 2 || len(closed) != 0 {
		t.Errorf("the new policy's verdicts were appended with the full evaluation marked %v and unmarked %v, want 2 awards marked", open, closed)
	}
	clear(open)
	mu.Unlock()
	// A fact about one component is an incremental evaluation: unmarked.
	w.append(mustEvent(t, event.TypeFactsReported, "component:default/web", event.FactsReported{Entity: "component:default/web", Source: "ci",
		Facts: []byte(`{"coverage": 95}`)}))
	step()
	mu.Lock()
	defer mu.Unlock()
	if len(open) != 0 || len(closed) == 0 {
		t.Errorf("an incremental evaluation appended %v marked as a full one and %v unmarked, want every append unmarked", open, closed)
	}
}
