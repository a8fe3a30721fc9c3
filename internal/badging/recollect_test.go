package badging_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// TestAMergedMigrationCollectsTheRepositoryAgain: a migration merges a
// CODEOWNERS file into an entity's repository, and its descriptor does not
// change. The repository's facts must be collected again, so the badge the
// file was made for is awarded.
func TestAMergedMigrationCollectsTheRepositoryAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var codeowners atomic.Bool
	var collected atomic.Int32
	repo := func(_ context.Context, _ *catalogstore.EntityView, _ string) (map[string]any, error) {
		collected.Add(1)
		return map[string]any{"codeowners": codeowners.Load()}, nil
	}
	ev, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: w.catProj,
		Store: w.badges, StoreWaiter: w.badgeProj, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	w.eval = ev
	var policy map[string]any
	if err := json.Unmarshal([]byte(`{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy", "metadata": {"name": "owners"},
 "spec": {"selector": "entity.kind == \"Component\"", "levels": ["bronze"],
  "checks": [{"id": "codeowners", "level": "bronze", "rule": "facts.?repo.?codeowners.orValue(false) == true"}]}}`), &policy); err != nil {
		t.Fatal(err)
	}
	w.upsert(policy)
	w.upsert(comp("payments", "production"))
	if got := summary(t, w.settle()); got != "check.changed component:default/payments owners >" {
		t.Fatalf("before the migration: %q", got)
	}
	if collected.Load() == 0 {
		t.Fatal("the repository was never collected")
	}
	codeowners.Store(true)
	w.append(mustEvent(t, event.TypeMigrationTargetChanged, "component:default/payments", event.MigrationTargetChanged{
		Migration: "add-codeowners-1", Entity: "component:default/payments", Repo: "file:///repos/payments.git", State: "merged", At: time.Now().UTC()}))
	if got := summary(t, w.settle()); got != "badge.awarded component:default/payments owners >bronze" {
		t.Fatalf("after the migration merged CODEOWNERS: %q", got)
	}
}
