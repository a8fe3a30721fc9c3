package badging_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/projector"
)

// world is an embedded log with the catalog and badge read models folded
// from it, and an evaluator over them.
type world struct {
	t       testing.TB
	ctx     context.Context
	log     event.PartitionedLog
	catalog *sqlitecatalog.Store
	badges  *sqlitebadges.Store
	eval    *badging.Evaluator
	loc     string
	uids    map[string]string
	// catProj and badgeProj are the projectors of catalog and badges.
	catProj, badgeProj projector.Waiter
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldWith(t, false)
}

// newWorldWith is newWorld; with holdFold, the badge read model's fold gives
// way to the evaluator's full ratings (Evaluator.NoFullRating), as the
// badges' projector of backlot dev and serve does (internal/app's
// badgesFirst), for at most two seconds a batch.
func newWorldWith(t testing.TB, holdFold bool) *world {
	t.Helper()
	dir := t.TempDir()
	raw, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	w := &world{t: t, ctx: context.Background(), log: event.SinglePartition(raw), uids: map[string]string{}}
	if w.catalog, err = sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.catalog.Close() })
	if w.badges, err = sqlitebadges.Open(filepath.Join(dir, "badges.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.badges.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	catProj := projector.New(w.log, w.catalog, projector.Options{BulkThreshold: -1})
	var gate *ratingGate
	badgeOpts := projector.Options{BulkThreshold: -1}
	if holdFold {
		gate = &ratingGate{maxWait: 2 * time.Second}
		badgeOpts.Gate = gate
	}
	badgeProj := projector.New(w.log, w.badges, badgeOpts)
	w.catProj, w.badgeProj = catProj, badgeProj
	if w.eval, err = badging.NewEvaluator(badging.EvaluatorConfig{Log: w.log, Catalog: w.catalog, CatalogWaiter: catProj, Store: w.badges, StoreWaiter: badgeProj}); err != nil {
		t.Fatal(err)
	}
	if gate != nil {
		gate.idle = w.eval.NoFullRating
	}
	go catProj.Run(ctx)
	go badgeProj.Run(ctx)
	w.loc = "loc-1"
	w.append(mustEvent(t, event.TypeLocationRegistered, "location:default/generated-1", event.LocationRegistered{ID: w.loc, Type: "file", Target: "/catalog.yaml"}))
	return w
}

// ratingGate admits a batch once no full rating runs (idle), or maxWait
// passed.
type ratingGate struct {
	idle    func() <-chan struct{}
	maxWait time.Duration
}

func (g *ratingGate) Enter(ctx context.Context, partition int32) (func(), error) {
	t := time.NewTimer(g.maxWait)
	defer t.Stop()
	select {
	case <-g.idle():
	case <-t.C:
	case <-ctx.Done():
	}
	return func() {}, ctx.Err()
}

func mustEvent(t testing.TB, typ event.Type, subject string, data any) event.Envelope {
	t.Helper()
	ev, err := event.New(typ, subject, data, event.Meta{Actor: "user:default/test"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (w *world) append(evs ...event.Envelope) {
	w.t.Helper()
	if _, err := w.log.Append(w.ctx, evs); err != nil {
		w.t.Fatal(err)
	}
}

// upsert writes an entity from its YAML-free description.
func (w *world) upsert(body map[string]any) {
	w.t.Helper()
	ent, err := catalog.NewEntity(body)
	if err != nil {
		w.t.Fatal(err)
	}
	key := ent.Ref().Key()
	if w.uids[key] == "" {
		w.uids[key] = event.NewID()
	}
	w.append(mustEvent(w.t, event.TypeEntityUpserted, key, event.EntityUpserted{Ref: ent.Ref().String(), UID: w.uids[key], Hash: ent.Hash(),
		Entity: ent.JSON(), LocationID: w.loc, ManagedBy: "file:/catalog.yaml", OriginLocation: "file:/catalog.yaml"}))
}

func (w *world) remove(key string) {
	w.t.Helper()
	w.append(mustEvent(w.t, event.TypeEntityRemoved, key, event.EntityRemoved{Ref: key, UID: w.uids[key], LocationID: w.loc, Reason: "test"}))
}

// settle runs the evaluator until it has handled the whole log, its own
// events included, and returns the badge events it appended meanwhile.
func (w *world) settle() []event.Envelope {
	w.t.Helper()
	from := w.eval.Handled()[0]
	for range 20 {
		if _, err := w.eval.Step(w.ctx); err != nil {
			w.t.Fatal(err)
		}
	}
	evs, err := w.log.ReadPartition(w.ctx, 0, from, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []event.Envelope
	for _, ev := range evs {
		if event.Type(ev.Type).IsBadge() {
			out = append(out, ev)
		}
	}
	return out
}

func summary(t *testing.T, evs []event.Envelope) string {
	t.Helper()
	var parts []string
	for _, ev := range evs {
		var d event.BadgeChanged
		if err := ev.Decode(&d); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, strings.TrimSuffix(strings.TrimPrefix(ev.Type, "backlot."), ".v1")+" "+d.Entity+" "+d.Policy+" "+d.PreviousLevel+">"+d.Level)
	}
	return strings.Join(parts, "; ")
}

const policyYAML = `{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy", "metadata": {"name": "tc"},
 "spec": {"selector": "entity.kind == \"Component\"", "levels": ["bronze", "silver"],
  "checks": [
   {"id": "owner", "level": "bronze", "rule": "has(entity.spec.owner)"},
   {"id": "no-deprecated", "level": "silver", "rule": "!facts.catalog.dependsOnDeprecated"},
   {"id": "coverage", "level": "silver", "rule": "facts.?ci.?coverage.orValue(0) >= 80"}]}}`

func policyBody(t *testing.T) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(policyYAML), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func comp(name, lifecycle string, deps ...string) map[string]any {
	spec := map[string]any{"type": "service", "lifecycle": lifecycle, "owner": "team-a"}
	if len(deps) > 0 {
		ds := make([]any, len(deps))
		for i, d := range deps {
			ds[i] = d
		}
		spec["dependsOn"] = ds
	}
	return map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": map[string]any{"name": name}, "spec": spec}
}

// TestEvaluatorWritesOnlyChanges follows entities through a policy's life:
// first ratings, a fact that lifts one, a dependency deprecated (which
// re-rates its dependent), an entity removed, and the policy removed. Each
// step writes exactly the changes, and a step run again writes nothing.
func TestEvaluatorWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("api", "production"))
	w.upsert(comp("web", "production", "component:api"))
	w.upsert(policyBody(t))
	if got := summary(t, w.settle()); got != "badge.awarded component:default/api tc >bronze; badge.awarded component:default/web tc >bronze" {
		t.Fatalf("first ratings: %s", got)
	}
	if got := summary(t, w.settle()); got != "" {
		t.Fatalf("a second pass wrote %s", got)
	}

	w.append(mustEvent(t, event.TypeFactsReported, "component:default/web", event.FactsReported{Entity: "component:default/web", Source: "ci", Facts: json.RawMessage(`{"coverage": 91}`)}))
	lifted := w.settle()
	if got := summary(t, lifted); got != "badge.awarded component:default/web tc bronze>silver" {
		t.Fatalf("after coverage: %s", got)
	}
	// The change names the one check whose outcome changed, read from the
	// verdict before in full (the comparison itself reads digests only).
	var d event.BadgeChanged
	if err := lifted[0].Decode(&d); err != nil || strings.Join(d.Changed, ",") != "coverage" || len(d.Checks) != 3 {
		t.Fatalf("the change after coverage: %v %+v", err, d)
	}

	w.upsert(comp("api", "deprecated"))
	if got := summary(t, w.settle()); got != "badge.revoked component:default/web tc silver>bronze" {
		t.Fatalf("after deprecating the dependency: %s", got)
	}
	facts, _ := w.badges.Facts(w.ctx, "component:default/web")
	if len(facts) != 2 || facts[0].Source != "catalog" || !strings.Contains(string(facts[0].Facts), `"deprecatedRefs":["component:default/api"]`) {
		t.Fatalf("facts of web: %+v", facts)
	}

	w.remove("component:default/api")
	// Gone, api is no deprecated dependency any more.
	if got := summary(t, w.settle()); got != "badge.revoked component:default/api tc bronze>; badge.awarded component:default/web tc bronze>silver" {
		t.Fatalf("after removing api: %s", got)
	}

	w.remove("policy:default/tc")
	if got := summary(t, w.settle()); got != "badge.revoked component:default/web tc silver>" {
		t.Fatalf("after removing the policy: %s", got)
	}
	if bs, _ := w.badges.Badges(w.ctx, "component:default/web"); len(bs) != 0 {
		t.Fatalf("badges left: %+v", bs)
	}
}
