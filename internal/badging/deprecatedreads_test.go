package badging_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// relationReads is a catalog that counts, for each entity, the queries that
// read it with its relations: those q.Decorate picks, or every entity of the
// page when it is nil.
type relationReads struct {
	catalogstore.Reader
	mu        sync.Mutex
	decorated map[string]int
}

// Query counts the entities it reads with their relations.
func (c *relationReads) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	var picked []string
	if pick := q.Decorate; pick != nil {
		q.Decorate = func(v *catalogstore.EntityView) bool {
			ok := pick(v)
			if ok {
				picked = append(picked, v.Key)
			}
			return ok
		}
	}
	page, err := c.Reader.Query(ctx, q)
	if q.Decorate == nil {
		for _, v := range page.Items {
			picked = append(picked, v.Key)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range picked {
		c.decorated[k]++
	}
	return page, err
}

// TestFullEvaluationReadsEachComponentsRelationsOnce rates a catalog in
// which every other component is deprecated under a policy that reads the
// catalog facts (whether a dependency is deprecated): the deprecated
// entities are looked up by their bodies alone, so each component is read
// with its relations once, by its page.
func TestFullEvaluationReadsEachComponentsRelationsOnce(t *testing.T) {
	t.Parallel()
	const n = 30
	w := newWorld(t)
	cat := &relationReads{Reader: w.catalog, decorated: map[string]int{}}
	var err error
	if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: cat, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, PageSize: 7}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var deps []string
		if i > 0 {
			deps = []string{fmt.Sprintf("component:c-%03d", i-1)}
		}
		w.upsert(comp(fmt.Sprintf("c-%03d", i), []string{"production", "deprecated"}[i%2], deps...))
	}
	w.upsert(policyBody(t))
	if got := len(w.settle()); got != n {
		t.Fatalf("%d badge events for %d components", got, n)
	}
	for i := range n {
		if k := fmt.Sprintf("component:default/c-%03d", i); cat.decorated[k] != 1 {
			t.Errorf("%s read with its relations %d times, want once", k, cat.decorated[k])
		}
	}
}

// overlapping is a catalog whose pages of a full evaluation (read with
// Decorate, in key order) are not answered until the next page's read has
// started, or ctx ends.
