package badging_test

import (
	"fmt"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
)

// TestAFullEvaluationAppendsOnceItsRatingEnds rates 40 components a page of
// 2 at a time: the evaluator appends none of the full evaluation's events
// while it rates (Evaluator.NoFullRating open), so the rating spends no CPU
// on the event log, and every event (a verdict and the catalog facts for
// each component) is appended once the last page is rated.
func TestAFullEvaluationAppendsOnceItsRatingEnds(t *testing.T) {
	t.Parallel()
	const n = 40
	w := newWorld(t)
	var mu sync.Mutex
	var e *badging.Evaluator
	whileRating, after := 0, 0
	log := appendWatch{PartitionedLog: w.log, seen: func(evs []event.Envelope) {
		mu.Lock()
		defer mu.Unlock()
		if e != nil && !isClosed(e.NoFullRating()) {
			whileRating += len(evs)
		} else {
			after += len(evs)
		}
	}}
	var err error
	if e, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: log, Catalog: w.catalog, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, PageSize: 2}); err != nil {
		t.Fatal(err)
	}
	w.eval = e
	for i := range n {
		w.upsert(comp(fmt.Sprintf("c-%02d", i), "production"))
	}
	w.upsert(policyBody(t))
	evs := w.settle()
	if len(evs) != n {
		t.Fatalf("%d badge events for %d components", len(evs), n)
	}
	mu.Lock()
	defer mu.Unlock()
	if whileRating != 0 || after < 2*n {
		t.Errorf("the full evaluation appended %d events while rating and %d after, want 0 and at least %d", whileRating, after, 2*n)
	}
}
