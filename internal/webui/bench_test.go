package webui

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchEntities is the catalog size of BenchmarkPages: 100,000 unless
// BACKLOT_UI_BENCH_N says otherwise.
func benchEntities() int {
	if n, err := strconv.Atoi(os.Getenv("BACKLOT_UI_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkPages measures the server time of the catalog and entity pages
// (read, render, write; no network) over SQLite read models of 100,000
// entities, and reports each page's p50 and p95 in milliseconds.
func BenchmarkPages(b *testing.B) {
	n := benchEntities()
	start := time.Now()
	f := newFixture(b, n, Config{})
	b.Logf("%d entities applied in %s", n, time.Since(start).Round(time.Millisecond))
	mid := n / 2
	_, first := f.get(b, "/catalog")
	next := ""
	if i := strings.Index(first, `rel="next"`); i >= 0 {
		j := strings.LastIndex(first[:i], `href="`)
		next = strings.ReplaceAll(first[j+6:i-2], "&amp;", "&")
	}
	for _, c := range []struct{ name, path string }{
		{"catalog", "/catalog"},
		{"catalog-page2", next},
		{"catalog-search", "/catalog?q=service-" + strconv.Itoa(mid)},
		{"catalog-filtered", "/catalog?owner=team-7"},
		{"catalog-filtered-sorted", "/catalog?lifecycle=production&owner=team-7&sort=system&dir=desc"},
		{"entity", "/catalog/default/component/service-" + strconv.Itoa(mid)},
		// Outside the goal, measured to be known: every kind sorted by name
		// (the (name, key) index), and the search in every field.
		{"catalog-all-kinds", "/catalog?kind=all"},
		{"catalog-search-every-field", "/catalog?scope=all&q=service-" + strconv.Itoa(mid)},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.path == "" {
				b.Skip("the first page has no next page") // only with a tiny BACKLOT_UI_BENCH_N
			}
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				code, body := f.get(b, c.path)
				times = append(times, time.Since(t0))
				if code != 200 {
					b.Fatalf("GET %s: %d %s", c.path, code, body)
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
