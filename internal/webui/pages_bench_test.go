package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// pickerTemplate is a template whose form has an EntityPicker over every
// component and an OwnerPicker over groups and users: the pickers of a
// golden path's first page.
func pickerTemplate(tb testing.TB, pos int64) event.Envelope {
	tb.Helper()
	return upsert(tb, map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
		"metadata": map[string]any{"name": "svc", "title": "A service", "tags": []any{"go"}},
		"spec": map[string]any{"owner": "team-0", "type": "service",
			"parameters": []any{map[string]any{"title": "The service", "required": []any{"name", "owner"}, "properties": map[string]any{
				"name":      map[string]any{"type": "string", "pattern": "^[a-z][a-z0-9-]+$"},
				"owner":     map[string]any{"type": "string", "ui:field": "OwnerPicker"},
				"dependsOn": map[string]any{"type": "string", "ui:field": "EntityPicker", "ui:options": map[string]any{"allowedKinds": []any{"Component"}}},
			}}},
			"steps": []any{map[string]any{"id": "log", "action": "debug:log"}}},
	}, pos)
}

// BenchmarkEveryPage serves each page of the portal over SQLite read models
// of BACKLOT_UI_BENCH_N entities (default 100,000) and as many verdicts of a
// policy, a minute apart, and reports each page's p50 and the process's CPU
// per request (background recounts included), to find the pages whose cost
// grows with the catalog. "steady" requests follow one another; "after
// write" applies one component (the catalog) or one verdict (the
// scorecards) before each request, as a live portal sees while the catalog
// changes, so no cached count or facet is current.
func BenchmarkEveryPage(b *testing.B) {
	n := benchEntities()
	start := time.Now()
	f := newScoreFixtureN(b, n, n)
	if err := f.cat.Apply(context.Background(), []event.Envelope{pickerTemplate(b, int64(n+1500))}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d entities and verdicts applied in %s", n, time.Since(start).Round(time.Millisecond))
	// The guest is a member of team-0, which owns one component in 40:
	// Home lists what it owns.
	f.srv.cfg.GuestGroups = []string{"group:default/team-0"}
	mid := strconv.Itoa(n / 2)
	pos := int64(n + 2000)
	writeComponent := func(b *testing.B, i int) {
		pos++
		ev := upsert(b, map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": "written-" + strconv.Itoa(i)},
			"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-1"}}, pos)
		if err := f.cat.Apply(context.Background(), []event.Envelope{ev}); err != nil {
			b.Fatal(err)
		}
	}
	verdicts := 0
	writeVerdict := func(b *testing.B, _ int) {
		if err := f.badges.Apply(context.Background(), []event.Envelope{f.verdict(b, verdicts%n)}); err != nil {
			b.Fatal(err)
		}
		verdicts++
	}
	for _, c := range []struct {
		name, path string
		write      func(*testing.B, int)
	}{
		{"home", "/", writeComponent},
		{"catalog", "/catalog", writeComponent},
		{"catalog-all-kinds", "/catalog?kind=all", writeComponent},
		{"entity", "/catalog/default/component/service-" + mid, writeComponent},
		{"entity-group", "/catalog/default/group/team-0", writeComponent},
		{"create", "/create", writeComponent},
		{"create-form-pickers", "/create/templates/default/svc", writeComponent},
		{"create-picker-prefix", "/create/picker?kind=component&q=service-" + mid[:min(3, len(mid))], writeComponent},
		{"scorecards", "/scorecards", writeVerdict},
		{"scorecard", "/scorecards/tc", writeVerdict},
		{"scorecard-by-hour", "/scorecards/tc?bucket=hour", writeVerdict},
	} {
		for _, after := range []bool{false, true} {
			name := c.name + "/steady"
			if after {
				name = c.name + "/after-write"
			}
			b.Run(name, func(b *testing.B) {
				if _, pattern := f.srv.mux.Handler(httptestRequest(c.path)); pattern == "" {
					b.Skipf("no page serves %s here", c.path)
				}
				f.get(b, c.path) // the first request of a page fills its caches
				times := make([]time.Duration, 0, b.N)
				cpu0 := cpuTime()
				i := 0
				for b.Loop() {
					if after {
						c.write(b, i)
					}
					i++
					t0 := time.Now()
					code, body := f.get(b, c.path)
					times = append(times, time.Since(t0))
					if code != 200 {
						b.Fatalf("GET %s: %d %s", c.path, code, excerpt(body, "<main"))
					}
				}
				cpu := cpuTime() - cpu0
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(times)), "cpu-ms/op")
			})
		}
	}
}

// httptestRequest is a GET of path, for asking the mux which page serves it.
func httptestRequest(path string) *http.Request {
	return httptest.NewRequest(http.MethodGet, path, nil)
}
