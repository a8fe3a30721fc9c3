package policies

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/internal/bench/gen"
)

// benchPolicy is the benchmark policy of the bench command (gen.PolicyRules):
// 20 checks of the kinds the example policies use.
func benchPolicy() *Policy {
	p := &Policy{APIVersion: PolicyAPIVersion, Kind: PolicyKind, Metadata: PolicyMetadata{Name: "bench"},
		Spec: PolicySpec{Selector: `entity.kind == "Component"`, Levels: []string{"bronze", "silver", "gold", "platinum"}}}
	for i, r := range gen.PolicyRules {
		p.Spec.Checks = append(p.Spec.Checks, Check{ID: fmt.Sprintf("check-%02d", i), Level: p.Spec.Levels[i/5], Rule: r, Message: "a check"})
	}
	return p
}

// benchInputs generates n entities in the shape of the example catalog's
// components, with relations and facts that vary so every level occurs.
func benchInputs(n int) []Input {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	lifecycles := []string{"production", "experimental", "deprecated"}
	types := []string{"service", "website", "library"}
	ins := make([]Input, n)
	for i := range ins {
		name := fmt.Sprintf("component-%06d", i)
		ann := map[string]any{"github.com/project-slug": "northwind/" + name}
		if i%3 == 0 {
			ann["pagerduty.com/service-id"] = fmt.Sprintf("P%d", i)
		}
		ins[i] = Input{
			Entity: map[string]any{
				"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
				"metadata": map[string]any{"name": name, "description": "A generated component for the benchmark", "annotations": ann,
					"tags":  []any{"go"},
					"links": []any{map[string]any{"url": "https://runbooks.example/" + name, "title": "Runbook"}}},
				"spec": map[string]any{"type": types[i%3], "lifecycle": lifecycles[i%3], "owner": fmt.Sprintf("team-%d", i%50), "system": fmt.Sprintf("system-%d", i%20)},
			},
			Relations: []Relation{
				{Type: "ownedBy", TargetRef: fmt.Sprintf("group:default/team-%d", i%50)},
				{Type: "partOf", TargetRef: fmt.Sprintf("system:default/system-%d", i%20)},
				{Type: "dependsOn", TargetRef: fmt.Sprintf("component:default/component-%06d", (i+1)%n)},
				{Type: "dependsOn", TargetRef: "resource:default/db"},
			},
			Facts: map[string]map[string]any{
				"repo":    {"readme": true, "codeowners": i%2 == 0, "tests": i%4 != 0},
				"ci":      {"coverage": float64(i % 100), "mainBranchPassing": i%5 != 0, "lastBuild": "2026-05-20T10:00:00Z"},
				"catalog": {"deprecatedRefs": []any{"component:default/component-000009"}},
			},
			Now: now,
		}
	}
	return ins
}

// BenchmarkEvaluate measures a policy of 20 checks: over 100,000 entities (a
// full evaluation, reported as s/full and µs/entity) and over one entity (an
// incremental evaluation after a change, ns/op of the single sub-benchmark);
// full-100k-parallel spreads the entities over GOMAXPROCS goroutines, as a
// Compiled is safe for concurrent use.
func BenchmarkEvaluate(b *testing.B) {
	c, err := Compile(benchPolicy())
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	ins := benchInputs(n)
	b.Run("full-100k", func(b *testing.B) {
		levels := map[string]int{}
		cpu := cpuTime()
		for b.Loop() {
			clear(levels)
			for _, in := range ins {
				levels[c.Evaluate(in).Level]++
			}
		}
		elapsed := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(elapsed, "s/full")
		b.ReportMetric(elapsed/n*1e6, "µs/entity")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N)/n, "cpu-µs/entity")
		if len(levels) < 3 {
			b.Fatalf("levels %v: the generated entities do not exercise the policy", levels)
		}
	})
	b.Run("full-100k-parallel", func(b *testing.B) {
		workers := runtime.GOMAXPROCS(0)
		cpu := cpuTime()
		for b.Loop() {
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := w; i < n; i += workers {
						c.Evaluate(ins[i])
					}
				})
			}
			wg.Wait()
		}
		elapsed := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(elapsed, "s/full")
		b.ReportMetric(elapsed/n*1e6, "µs/entity")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N)/n, "cpu-µs/entity")
	})
	b.Run("single", func(b *testing.B) {
		in := ins[42]
		for b.Loop() {
			c.Evaluate(in)
		}
	})
}

// cpuTime returns the CPU time (user and system) the process has used: the
// machine is shared, so wall time alone is noisy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
