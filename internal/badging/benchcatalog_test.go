package badging_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/projections/catalogstore"
)

// benchCatalogWorld is the bench command's generated catalog of n entities
// (every kind, with their relations: components are 60% of it, groups
// carry most incoming relations) with the evaluator caught up.
func benchCatalogWorld(b *testing.B, n int) *world {
	return benchCatalogWorldWith(b, n, false)
}

// benchCatalogWorldWith is benchCatalogWorld; with holdFold the badge read
// model's fold gives way to the full ratings (newWorldWith).
func benchCatalogWorldWith(b *testing.B, n int, holdFold bool) *world {
	dir := b.TempDir()
	sum, err := gen.Generate(dir, gen.Config{Entities: n})
	if err != nil {
		b.Fatal(err)
	}
	w := newWorldWith(b, holdFold)
	files, err := filepath.Glob(filepath.Join(dir, "entities-*.yaml"))
	if err != nil || len(files) == 0 {
		b.Fatalf("generated files: %v (%d)", err, len(files))
	}
	var evs []event.Envelope
	for _, f := range files {
		if f == sum.RootFile {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs, err := catalog.ParseDocuments(f, data, catalog.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range docs {
			if d.Err != nil {
				b.Fatal(d.Err)
			}
			ent, err := catalog.NewEntity(d.Body)
			if err != nil {
				b.Fatal(err)
			}
			ev, _ := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{Ref: ent.Ref().String(), UID: event.NewID(), Hash: ent.Hash(),
				Entity: ent.JSON(), LocationID: w.loc, ManagedBy: "file:" + f, OriginLocation: "file:" + f}, event.Meta{})
			evs = append(evs, ev)
			if len(evs) == 5000 {
				w.append(evs...)
				evs = nil
			}
		}
	}
	w.append(evs...)
	step(b, w)
	return w
}

// BenchmarkFullEvaluationOfTheBenchCatalog is BenchmarkFullEvaluation over
// the bench command's catalog of BACKLOT_BENCH_ENTITIES entities (default
// 5,000; about 60% components, which the policy rates): each iteration
// registers a 20-check policy of another name and removes the one before,
// and the evaluator rates, appends and folds. cpu-us/entity is the
// process's CPU time per entity of the catalog.
func BenchmarkFullEvaluationOfTheBenchCatalog(b *testing.B) {
	benchFullEvaluationOfTheBenchCatalog(b, false)
}

// BenchmarkFullEvaluationOfTheBenchCatalogFoldHeld is
// BenchmarkFullEvaluationOfTheBenchCatalog with the badge read model's fold
// giving way to each rating, as in backlot dev and serve: rating-ms/op
// against the other's is what the rating gains by the cores the fold leaves
// it, and cpu-us/entity what the fold's catch-up after the rating costs.
func BenchmarkFullEvaluationOfTheBenchCatalogFoldHeld(b *testing.B) {
	benchFullEvaluationOfTheBenchCatalog(b, true)
}

func benchFullEvaluationOfTheBenchCatalog(b *testing.B, holdFold bool) {
	n := benchEntities()
	w := benchCatalogWorldWith(b, n, holdFold)
	var rating, cpu time.Duration
	rated := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		e, err := catalog.NewEntity(gen.Policy(fmt.Sprintf("p%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		ev, _ := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{Ref: e.Ref().String(), UID: event.NewID(), Hash: e.Hash(),
			Entity: e.JSON(), LocationID: w.loc, ManagedBy: "file:/policies.yaml", OriginLocation: "file:/policies.yaml"}, event.Meta{})
		evs := []event.Envelope{ev}
		if i > 0 {
			prev := fmt.Sprintf("policy:default/p%d", i-1)
			evs = append(evs, mustEvent(b, event.TypeEntityRemoved, prev, event.EntityRemoved{Ref: prev, LocationID: w.loc, Reason: "bench"}))
		}
		w.append(evs...)
		b.StartTimer()
		c := cpuTime()
		step(b, w)
		cpu += cpuTime() - c
		rating += w.eval.Stats().LastRating
		rated = int(w.eval.Stats().LastEvaluations) // one per entity (one policy)
	}
	b.ReportMetric(float64(rating.Milliseconds())/float64(b.N), "rating-ms/op")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*max(rated, 1)), "cpu-us/entity")
}

// BenchmarkReadPagesOfTheBenchCatalog reads the bench command's catalog a
// page of 1,000 at a time, as a full evaluation does, every entity with its
// relations ("all"), and with relations for the components alone
// ("components", what a policy on components reads since
// PageQuery.Decorate). cpu-us/entity is the CPU time per entity read.
func BenchmarkReadPagesOfTheBenchCatalog(b *testing.B) {
	n := benchEntities()
	w := benchCatalogWorld(b, n)
	for _, tc := range []struct {
		name string
		pick func(*catalogstore.EntityView) bool
	}{
		{"all", nil},
		{"components", func(v *catalogstore.EntityView) bool { return strings.HasPrefix(v.Key, "component:") }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var cpu time.Duration
			read, related := 0, 0
			for b.Loop() {
				c := cpuTime()
				q := catalogstore.PageQuery{Limit: 1000, Decorate: tc.pick}
				for {
					page, err := w.catalog.Query(w.ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					for _, v := range page.Items {
						read++
						related += len(v.Relations)
					}
					if !page.HasNext {
						break
					}
					q.After = page.Last
				}
				cpu += cpuTime() - c
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(read), "cpu-us/entity")
			b.ReportMetric(float64(related)/float64(read), "relations/entity")
		})
	}
}
