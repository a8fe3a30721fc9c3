package badging_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// TestBuiltInFactsOnlyForThePoliciesThatReadThem: under a policy that reads
// no built-in facts, neither the catalog's facts nor the repository's are
// collected; a policy that reads facts.catalog brings the catalog's (and only
// those) for the entities it rates.
func TestBuiltInFactsOnlyForThePoliciesThatReadThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var collected atomic.Int32
	repo := func(_ context.Context, _ *catalogstore.EntityView, _ string) (map[string]any, error) {
		collected.Add(1)
		return map[string]any{"codeowners": true}, nil
	}
	ev, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	w.eval = ev
	policy := func(name, selector, rule string) map[string]any {
		var p map[string]any
		doc, _ := json.Marshal(map[string]any{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"selector": selector, "levels": []string{"bronze"},
				"checks": []map[string]any{{"id": "c", "level": "bronze", "rule": rule}}}})
		if err := json.Unmarshal(doc, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sources := func(key string) []string {
		t.Helper()
		fs, err := w.badges.Facts(w.ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Source)
		}
		return out
	}
	w.upsert(comp("api", "deprecated"))
	w.upsert(comp("web", "production", "component:api"))
	w.upsert(policy("owned", `entity.kind == "Component"`, `has(entity.spec.owner) && facts.?ci.?coverage.orValue(0) >= 0`))
	if got := summary(t, w.settle()); got != "badge.awarded component:default/api owned >bronze; badge.awarded component:default/web owned >bronze" {
		t.Fatalf("first ratings: %s", got)
	}
	if got := sources("component:default/web"); len(got) != 0 || collected.Load() != 0 {
		t.Fatalf("no policy reads built-in facts, yet facts %v were kept and the repository read %d times", got, collected.Load())
	}

	// A policy of web alone that reads the catalog's facts.
	w.upsert(policy("deps", `entity.metadata.name == "web"`, `!facts.catalog.dependsOnDeprecated`))
	if got := summary(t, w.settle()); got != "check.changed component:default/web deps >" {
		t.Fatalf("with deps: %s", got)
	}
	if got := sources("component:default/web"); len(got) != 1 || got[0] != badging.SourceCatalog {
		t.Fatalf("facts of web: %v, want the catalog's alone", got)
	}
	if got := sources("component:default/api"); len(got) != 0 {
		t.Fatalf("facts of api, which no policy reading them rates: %v", got)
	}
	if collected.Load() != 0 {
		t.Fatalf("the repository was read %d times, and no policy reads facts.repo", collected.Load())
	}
}
