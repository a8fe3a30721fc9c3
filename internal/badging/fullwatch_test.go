package badging_test

import (
	"context"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
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

// queryWatch is a catalog that calls seen before each query.
type queryWatch struct {
	catalogstore.Reader
	seen func()
}

func (c queryWatch) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	c.seen()
	return c.Reader.Query(ctx, q)
}

// stepN takes n steps of e, failing t on the first error.
func stepN(t *testing.T, ctx context.Context, e *badging.Evaluator, n int) {
	t.Helper()
	for range n {
		if _, err := e.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
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
	// The world's own evaluator never runs: e starts from the log's start.
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
	markedQueries := 0
	cat := queryWatch{Reader: w.catalog, seen: func() {
		if !isClosed(e.NoFullEvaluation()) {
			mu.Lock()
			markedQueries++
			mu.Unlock()
		}
	}}
	e, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: log, Catalog: cat, CatalogWaiter: w.catProj, Store: w.badges, StoreWaiter: w.badgeProj})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		stepN(t, w.ctx, e, 20)
	}
	step() // a first step reads every entity, with no policy to rate them by: not marked
	if !isClosed(e.NoFullEvaluation()) || markedQueries != 0 {
		t.Fatalf("NoFullEvaluation is open before any policy, or was during %d queries", markedQueries)
	}
	w.upsert(policyBody(t))
	step()
	if !isClosed(e.NoFullEvaluation()) {
		t.Error("NoFullEvaluation is open after the full evaluation's steps returned")
	}
	mu.Lock()
	if markedQueries == 0 {
		t.Error("the new policy's full evaluation read the catalog unmarked")
	}
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
