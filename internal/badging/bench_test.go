package badging_test

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
)

// benchEntities is the catalog size of the benchmarks: BACKLOT_BENCH_ENTITIES
// or 5,000.
func benchEntities() int {
	if n, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// cpuTime returns the CPU time (user and system) the process has used: the
// machine is shared, so wall time alone is noisy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWorld is a catalog of n components (each depending on the one before)
// with the evaluator caught up.
func benchWorld(b *testing.B, n int) *world {
	w := newWorld(b)
	var evs []event.Envelope
	for i := range n {
		body := comp(fmt.Sprintf("c-%06d", i), []string{"production", "experimental", "deprecated"}[i%3])
		if i > 0 {
			body["spec"].(map[string]any)["dependsOn"] = []any{fmt.Sprintf("component:c-%06d", i-1)}
		}
		body["metadata"].(map[string]any)["description"] = "A component of the benchmark catalog"
		ent, err := catalog.NewEntity(body)
		if err != nil {
			b.Fatal(err)
		}
		ev, _ := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{Ref: ent.Ref().String(), UID: event.NewID(), Hash: ent.Hash(),
			Entity: ent.JSON(), LocationID: w.loc, ManagedBy: "file:/catalog.yaml", OriginLocation: "file:/catalog.yaml"}, event.Meta{})
		evs = append(evs, ev)
		if len(evs) == 5000 || i == n-1 {
			if _, err := w.log.Append(w.ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = nil
		}
	}
	for {
		n, err := w.eval.Step(w.ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return w
		}
	}
}

// step runs the evaluator until it is caught up.
func step(b *testing.B, w *world) {
	for {
		n, err := w.eval.Step(w.ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// BenchmarkFullEvaluation rates every component with a new 20-check policy:
// each iteration registers a policy of another name and removes the one
// before, so every component gets a first verdict (and loses the old one),
// and the events are appended and folded. rating-ms is the evaluator's rating
// alone.
func BenchmarkFullEvaluation(b *testing.B) {
	n := benchEntities()
	w := benchWorld(b, n)
	var rating, cpu time.Duration
	b.ResetTimer()
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
			// The policy before goes, so each iteration rates with one policy.
			prev := fmt.Sprintf("policy:default/p%d", i-1)
			evs = append(evs, mustEvent(b, event.TypeEntityRemoved, prev, event.EntityRemoved{Ref: prev, LocationID: w.loc, Reason: "bench"}))
		}
		if _, err := w.log.Append(w.ctx, evs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c := cpuTime()
		step(b, w)
		cpu += cpuTime() - c
		rating += w.eval.Stats().LastRating
	}
	b.ReportMetric(float64(n), "entities")
	b.ReportMetric(float64(rating.Milliseconds())/float64(b.N), "rating-ms/op")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkIncrementalEvaluation reports a fact about one component and
// rates it (and its dependents) again under a 20-check policy.
func BenchmarkIncrementalEvaluation(b *testing.B) {
	n := benchEntities()
	w := benchWorld(b, n)
	e, err := catalog.NewEntity(gen.Policy("p"))
	if err != nil {
		b.Fatal(err)
	}
	ev, _ := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{Ref: e.Ref().String(), UID: event.NewID(), Hash: e.Hash(),
		Entity: e.JSON(), LocationID: w.loc, ManagedBy: "file:/policies.yaml", OriginLocation: "file:/policies.yaml"}, event.Meta{})
	if _, err := w.log.Append(w.ctx, []event.Envelope{ev}); err != nil {
		b.Fatal(err)
	}
	step(b, w)
	var rating time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("component:default/c-%06d", (i*7919)%n)
		fact := mustEventB(b, key, fmt.Sprintf(`{"coverage": %d}`, 50+40*(i%2)))
		if _, err := w.log.Append(w.ctx, []event.Envelope{fact}); err != nil {
			b.Fatal(err)
		}
		step(b, w)
		rating += w.eval.Stats().LastRating
	}
	b.ReportMetric(float64(rating.Microseconds())/1000/float64(b.N), "rating-ms/op")
}

func mustEventB(b *testing.B, key, facts string) event.Envelope {
	ev, err := event.New(event.TypeFactsReported, key, event.FactsReported{Entity: key, Source: "ci", Facts: []byte(facts)}, event.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	return ev
}
