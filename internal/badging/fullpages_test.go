package badging_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/badges"
)

// TestFullEvaluationInPagesAsInOne rates a catalog with a new policy, then
// again with the policy changed, once in pages of 7 entities (so pages are
// read while others are rated, and events appended ten pages at a time while
// rating goes on) and once in one page: the events are the same, in the same
// order, and every verdict is readable when the evaluator is done.
func TestFullEvaluationInPagesAsInOne(t *testing.T) {
	t.Parallel()
	const n = 230
	run := func(pageSize int) []string {
		w := newWorld(t)
		var err error
		if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: w.catProj,
			Store: w.badges, StoreWaiter: w.badgeProj, PageSize: pageSize}); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			var deps []string
			if i%5 > 0 {
				deps = []string{fmt.Sprintf("component:c-%03d", i-1)}
			}
			w.upsert(comp(fmt.Sprintf("c-%03d", i), []string{"production", "deprecated"}[i%2], deps...))
		}
		w.append(mustEvent(t, event.TypeFactsReported, "component:default/c-017", event.FactsReported{
			Entity: "component:default/c-017", Source: "ci", Facts: []byte(`{"coverage": 95}`)}))
		w.upsert(policyBody(t))
		first := w.settle()
		if got := len(first); got != n {
			t.Fatalf("page size %d: %d badge events for %d components", pageSize, got, n)
		}
		res, err := w.badges.Results(w.ctx, badges.ResultQuery{Policy: "tc"})
		if err != nil || len(res) != n {
			t.Fatalf("page size %d: %d verdicts readable (%v), want %d", pageSize, len(res), err, n)
		}
		// The policy changes: every verdict changes, one event each.
		p := policyBody(t)
		p["spec"].(map[string]any)["levels"] = []any{"bronze", "silver", "gold"}
		checks := p["spec"].(map[string]any)["checks"].([]any)
		p["spec"].(map[string]any)["checks"] = append(checks, map[string]any{"id": "named", "level": "gold", "rule": `entity.metadata.name.startsWith("c-")`})
		w.upsert(p)
		second := w.settle()
		var out []string
		for _, evs := range [][]event.Envelope{first, second} {
			for _, ev := range evs {
				// The entity hashes differ between the two worlds (each
				// gives its entities new uids); the rest is compared.
				var d map[string]any
				if err := json.Unmarshal(ev.Data, &d); err != nil {
					t.Fatal(err)
				}
				delete(d, "entityHash")
				b, _ := json.Marshal(d)
				out = append(out, ev.Type+" "+ev.Subject+" "+string(b))
			}
		}
		return out
	}
	small, one := run(7), run(n+1)
	if len(small) != len(one) {
		t.Fatalf("%d events in pages of 7, %d in one page", len(small), len(one))
	}
	for i := range small {
		if small[i] != one[i] {
			t.Fatalf("event %d in pages of 7:\n%s\nin one page:\n%s", i, small[i], one[i])
		}
	}
	if len(small) < 2*n {
		t.Fatalf("%d events, want a change of every verdict twice", len(small))
	}
}

// TestFullEvaluationKnowsDeprecatedDependenciesAsIncremental rates a catalog
// whose components depend on deprecated ones in other pages twice: once with
// the policy registered first, each entity rated as it arrives (its
// dependencies looked up one by one), once with the policy registered last,
// in a full evaluation that reads the deprecated entities first. Every
// verdict is the same, and some fail on a deprecated dependency.
func TestFullEvaluationKnowsDeprecatedDependenciesAsIncremental(t *testing.T) {
	t.Parallel()
	const n = 60
	lifecycles := []string{"production", "deprecated", "Deprecated", "experimental"}
	verdicts := func(policyFirst bool) (string, int) {
		w := newWorld(t)
		var err error
		if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: w.catProj,
			Store: w.badges, StoreWaiter: w.badgeProj, PageSize: 7}); err != nil {
			t.Fatal(err)
		}
		if policyFirst {
			w.upsert(policyBody(t))
			w.settle()
		}
		for i := range n {
			w.upsert(comp(fmt.Sprintf("c-%03d", i), lifecycles[i%len(lifecycles)], fmt.Sprintf("component:c-%03d", (i*7+3)%n)))
			if policyFirst && i%10 == 9 {
				w.settle()
			}
		}
		if !policyFirst {
			w.upsert(policyBody(t))
		}
		w.settle()
		res, err := w.badges.Results(w.ctx, badges.ResultQuery{Policy: "tc"})
		if err != nil || len(res) != n {
			t.Fatalf("policy first %v: %d verdicts (%v), want %d", policyFirst, len(res), err, n)
		}
		var out []string
		failing := 0
		for _, b := range res {
			var checks []string
			for _, c := range b.Checks {
				checks = append(checks, fmt.Sprintf("%s=%v", c.ID, c.Passed))
				if c.ID == "no-deprecated" && !c.Passed {
					failing++
				}
			}
			out = append(out, fmt.Sprintf("%s %s %v", b.Entity, b.Level, checks))
		}
		return fmt.Sprint(out), failing
	}
	incremental, failing := verdicts(true)
	full, _ := verdicts(false)
	if incremental != full {
		t.Fatalf("verdicts differ:\nincremental %s\nfull        %s", incremental, full)
	}
	if failing == 0 || failing == n {
		t.Fatalf("%d of %d components fail no-deprecated: the catalog does not test both outcomes", failing, n)
	}
}
