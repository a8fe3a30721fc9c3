package badging

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/catalogstore"
)

// ratePageBench returns a rater of a full evaluation under the 20-check
// benchmark policy and a page of n of the benchmark's components, with no
// verdicts or facts yet: what a policy's first full evaluation rates.
func ratePageBench(b *testing.B, n int) (*rater, page) {
	evs, err := gen.ComponentUpserts(1, n, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := page{keys: make([]string, n), views: make([]*catalogstore.EntityView, n)}
	for i := range evs {
		var d event.EntityUpserted
		if err := json.Unmarshal(evs[i].Data, &d); err != nil {
			b.Fatal(err)
		}
		v := &catalogstore.EntityView{Key: evs[i].Subject, Ref: d.Ref, UID: d.UID, Body: d.Entity}
		body, _ := catalog.DecodeJSONObject(d.Entity)
		spec := body["spec"].(map[string]any)
		v.Relations = []catalogstore.Relation{
			{Type: catalog.RelationOwnedBy, TargetRef: spec["owner"].(string)},
			{Type: catalog.RelationDependsOn, TargetRef: spec["dependsOn"].([]any)[0].(string)},
		}
		p.keys[i], p.views[i] = v.Key, v
	}
	pol, err := policies.FromEntity("policy:default/bench-20", gen.PolicyJSON("bench-20"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := policies.Compile(pol)
	if err != nil {
		b.Fatal(err)
	}
	e := &Evaluator{cfg: EvaluatorConfig{PageSize: 1000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, policies: []*policies.Compiled{c}}
	r := &rater{e: e, ctx: context.Background(), now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), full: true,
		deprecated: map[string]bool{}, deprecatedKnown: true}
	return r, p
}

// BenchmarkRatePage rates a page of 1,000 components under the 20-check
// policy for the first time (each gets its catalog facts and a first
// verdict): the rating of a full evaluation without its reads and appends.
// ns/op is per page; cpu-us/entity is the CPU time per component.
func BenchmarkRatePage(b *testing.B) {
	const n = 1000
	r, p := ratePageBench(b, n)
	var cpu time.Duration
	for b.Loop() {
		r.events = r.events[:0]
		c := processCPU()
		if err := r.ratePage(p); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c
	}
	if len(r.events) != 2*n {
		b.Fatalf("%d events, want %d (a facts event and a verdict per component)", len(r.events), 2*n)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-us/entity")
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
