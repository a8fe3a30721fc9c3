package webui

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// BenchmarkCreatePages measures the server time of the Create page (the
// templates, searched and filtered by tag) and of a template's form (its
// OwnerPicker reads at most pickerLimit groups and users) over SQLite read
// models of 100,000 entities (BACKLOT_UI_BENCH_N), with p50 and p95 in
// milliseconds.
func BenchmarkCreatePages(b *testing.B) {
	n := benchEntities()
	f := newFixture(b, n, Config{})
	body := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
		"metadata": map[string]any{"name": "svc", "title": "A service", "tags": []any{"go"}},
		"spec": map[string]any{"owner": "team-0", "type": "service",
			"parameters": []any{map[string]any{"title": "The service", "required": []any{"name", "owner"}, "properties": map[string]any{
				"name":  map[string]any{"type": "string", "pattern": "^[a-z][a-z0-9-]+$"},
				"owner": map[string]any{"type": "string", "ui:field": "OwnerPicker"},
			}}},
			"steps": []any{map[string]any{"id": "log", "action": "debug:log"}}},
	}
	if err := f.cat.Apply(context.Background(), []event.Envelope{upsert(b, body, int64(n+100))}); err != nil {
		b.Fatal(err)
	}
	next := url.Values{"_step": {"0"}, "_action": {"next"}, "name": {"Bad Name"}}
	for _, c := range []struct {
		name, path string
		form       url.Values
	}{
		{"create", "/create", nil},
		{"create-search-tag", "/create?q=service&tag=go", nil},
		{"create-form", "/create/templates/default/svc", nil},
		{"create-form-next-invalid", "/create/templates/default/svc", next},
	} {
		b.Run(c.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				var code int
				var page string
				if c.form == nil {
					code, page = f.get(b, c.path)
				} else {
					code, page, _ = f.postB(b, c.path, c.form)
				}
				times = append(times, time.Since(t0))
				if code != 200 && code != 422 {
					b.Fatalf("%s: %d %s", c.path, code, page)
				}
			}
			slices.Sort(times)
			pct := func(p float64) float64 {
				return float64(times[min(len(times)-1, int(float64(len(times))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}
