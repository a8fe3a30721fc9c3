package badging_test

import (
	"context"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/projector"
)

// waitWatch is a waiter that calls seen before each wait.
type waitWatch struct {
	projector.Waiter
	seen func()
}

func (w waitWatch) WaitFor(ctx context.Context, pos event.Positions) error {
	w.seen()
	return w.Waiter.WaitFor(ctx, pos)
}

// TestNoFullRatingIsOpenWhileAFullEvaluationRatesItsPages checks the
// evaluator's NoFullRating, which the badge read model's fold gives way to:
// open while a new policy's full evaluation reads its pages, closed before
// the evaluation waits for that fold (which would otherwise wait for the
// rating to end, and the rating's end for it), and never open for the first
// evaluation without policies or an incremental one.
func TestNoFullRatingIsOpenWhileAFullEvaluationRatesItsPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("api", "production"))
	w.upsert(comp("web", "production", "component:api"))
	w.upsert(comp("old", "deprecated"))
	var mu sync.Mutex
	var e *badging.Evaluator
	ratingQueries, waitsWhileRating, waits := 0, 0, 0
	cat := queryWatch{Reader: w.catalog, seen: func() {
		if !isClosed(e.NoFullRating()) {
			mu.Lock()
			ratingQueries++
			mu.Unlock()
		}
	}}
	waiter := waitWatch{Waiter: w.badgeProj, seen: func() {
		mu.Lock()
		defer mu.Unlock()
		waits++
		if !isClosed(e.NoFullRating()) {
			waitsWhileRating++
		}
	}}
	// One entity a page: the rating reads several pages.
	e, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: cat, CatalogWaiter: w.catProj, Store: w.badges, StoreWaiter: waiter, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		stepN(t, w.ctx, e, 20)
	}
	step() // a first step with no policy to rate by: not marked
	mu.Lock()
	if !isClosed(e.NoFullRating()) || ratingQueries != 0 {
		t.Fatalf("NoFullRating is open before any policy, or was during %d queries", ratingQueries)
	}
	waits = 0
	mu.Unlock()
	w.upsert(policyBody(t))
	step()
	mu.Lock()
	if !isClosed(e.NoFullRating()) {
		t.Error("NoFullRating is open after the full evaluation's steps returned")
	}
	if ratingQueries < 3 {
		t.Errorf("the full evaluation read %d pages of the catalog with its rating marked, want every page (at least 3)", ratingQueries)
	}
	if waits == 0 || waitsWhileRating != 0 {
		t.Errorf("the full evaluation waited for the badge read model %d times, %d of them with its rating marked, want every wait unmarked", waits, waitsWhileRating)
	}
	ratingQueries, waitsWhileRating = 0, 0
	mu.Unlock()
	// A fact about one component is an incremental evaluation: unmarked.
	w.append(mustEvent(t, event.TypeFactsReported, "component:default/web", event.FactsReported{Entity: "component:default/web", Source: "ci",
		Facts: []byte(`{"coverage": 95}`)}))
	step()
	mu.Lock()
	defer mu.Unlock()
	if ratingQueries != 0 || waitsWhileRating != 0 {
		t.Errorf("an incremental evaluation ran %d queries and %d waits marked as a full rating, want none", ratingQueries, waitsWhileRating)
	}
	if v, err := w.badges.VerdictsOf(w.ctx, []string{"component:default/web"}); err != nil || len(v["component:default/web"]) == 0 {
		t.Errorf("web's verdicts after the full evaluation = %v, %v, want the policy's", v, err)
	}
}
