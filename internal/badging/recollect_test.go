package badging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// migrationTargetChangedV0 is a made-up older version of the migration
// target event, in which state was called status; TestMain registers its
// upcaster on Backlot's own registry.
const migrationTargetChangedV0 event.Type = "backlot.migration.target.changed.v0"

// TestMain registers the upcaster of migrationTargetChangedV0 before any
// test reads an event.
func TestMain(m *testing.M) {
	if err := event.RegisterUpcaster(migrationTargetChangedV0, event.TypeMigrationTargetChanged, func(data json.RawMessage) (json.RawMessage, error) {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		d["state"] = d["status"]
		delete(d, "status")
		return json.Marshal(d)
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// TestAMergedMigrationCollectsTheRepositoryAgain: a migration merges a
// CODEOWNERS file into an entity's repository, and its descriptor does not
// change. The repository's facts must be collected again, so the badge the
// file was made for is awarded. The evaluator reads the merge as the newest
// version of its type, whichever version the log holds: an older version
// (v0, its state called status) triggers it as v1 does.
func TestAMergedMigrationCollectsTheRepositoryAgain(t *testing.T) {
	t.Parallel()
	merged := event.MigrationTargetChanged{Migration: "add-codeowners-1", Entity: "component:default/payments",
		Repo: "file:///repos/payments.git", State: "merged", At: time.Now().UTC()}
	for _, tc := range []struct {
		name  string
		event func(t *testing.T) event.Envelope
	}{
		{name: "v1", event: func(t *testing.T) event.Envelope {
			return mustEvent(t, event.TypeMigrationTargetChanged, "component:default/payments", merged)
		}},
		{name: "v0", event: func(t *testing.T) event.Envelope {
			ev := mustEvent(t, event.TypeMigrationTargetChanged, "component:default/payments", merged)
			var d map[string]json.RawMessage
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			d["status"] = d["state"]
			delete(d, "state")
			ev.Data, _ = json.Marshal(d)
			ev.Type, ev.DataSchema = string(migrationTargetChangedV0), migrationTargetChangedV0.SchemaURI()
			return ev
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mergedMigrationCollectsAgain(t, tc.event(t))
		})
	}
}

// mergedMigrationCollectsAgain rates an entity whose repository lacks
// CODEOWNERS, appends merged (the migration that adds it) and expects the
// badge awarded.
func mergedMigrationCollectsAgain(t *testing.T, merged event.Envelope) {
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
	w.append(merged)
	if got := summary(t, w.settle()); got != "badge.awarded component:default/payments owners >bronze" {
		t.Fatalf("after the migration merged CODEOWNERS: %q", got)
	}
}
