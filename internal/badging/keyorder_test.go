package badging_test

import (
	"fmt"
	"slices"
	"testing"

	"backlot.dev/backlot/internal/badging"
)

// TestAFullEvaluationRatesInKeyOrder creates components in an order far from
// their keys' (each name's digits reversed), in pages of 6: a full evaluation
// of a new policy appends its verdicts in the order of the entities' keys,
// which the badge store's tables are keyed by, across every page.
func TestAFullEvaluationRatesInKeyOrder(t *testing.T) {
	t.Parallel()
	const n = 40
	w := newWorld(t)
	var err error
	if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, PageSize: 6}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		w.upsert(comp(fmt.Sprintf("c-%d%d", i%10, i/10), "production"))
	}
	w.upsert(policyBody(t))
	evs := w.settle()
	if len(evs) != n {
		t.Fatalf("%d badge events for %d components", len(evs), n)
	}
	subjects := make([]string, len(evs))
	for i, ev := range evs {
		subjects[i] = ev.Subject
	}
	if !slices.IsSorted(subjects) {
		t.Fatalf("verdicts appended out of key order: %v", subjects)
	}
}
