package badging_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// decorations is a catalog that records which entities a query read with
// their relations.
type decorations struct {
	catalogstore.Reader
	mu        sync.Mutex
	decorated map[string]int
}

// Query records the entities q.Decorate picks, when it is set (the
// evaluator's other queries, such as the one for its policies, read all).
func (d *decorations) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	pick := q.Decorate
	if pick == nil {
		return d.Reader.Query(ctx, q)
	}
	q.Decorate = func(v *catalogstore.EntityView) bool {
		ok := pick(v)
		if ok {
			d.mu.Lock()
			d.decorated[v.Key]++
			d.mu.Unlock()
		}
		return ok
	}
	return d.Reader.Query(ctx, q)
}

// TestFullEvaluationReadsRelationsOfTheSelectedOnly rates a catalog of
// components and the group that owns them (its incoming ownerOf relations
// are many) with a policy on components: a full evaluation reads the
// relations of the components alone. When the policy then stops selecting a
// component, its verdict is revoked with its owner, which its relations say:
// such an entity is read again whole.
func TestFullEvaluationReadsRelationsOfTheSelectedOnly(t *testing.T) {
	t.Parallel()
	const n = 40
	w := newWorld(t)
	cat := &decorations{Reader: w.catalog, decorated: map[string]int{}}
	var err error
	if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: cat, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, PageSize: 9}); err != nil {
		t.Fatal(err)
	}
	w.upsert(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "team-a"},
		"spec": map[string]any{"type": "team", "children": []any{}}})
	for i := range n {
		w.upsert(comp(fmt.Sprintf("c-%03d", i), "production"))
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
	if len(cat.decorated) != n {
		t.Errorf("%d entities read with their relations, want the %d components: %v", len(cat.decorated), n, cat.decorated)
	}

	// The policy no longer selects c-007: its verdict goes, with its owner.
	p := policyBody(t)
	p["spec"].(map[string]any)["selector"] = `entity.kind == "Component" && entity.metadata.name != "c-007"`
	w.upsert(p)
	evs := w.settle()
	if len(evs) != 1 {
		t.Fatalf("%d badge events, want c-007's verdict revoked: %s", len(evs), summary(t, evs))
	}
	var d event.BadgeChanged
	if err := evs[0].Decode(&d); err != nil {
		t.Fatal(err)
	}
	if evs[0].Type != string(event.TypeBadgeRevoked) || d.Entity != "component:default/c-007" || d.Owner != "group:default/team-a" || d.EntityHash == "" || d.Applies {
		t.Fatalf("got %s %+v, want c-007's verdict revoked with its owner group:default/team-a and hash", evs[0].Type, d)
	}
}
