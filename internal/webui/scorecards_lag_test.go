package webui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
)

// scoreFixture is a portal whose catalog holds the policy tc (levels bronze
// and silver, a campaign) and whose badge read model holds one verdict of
// tc for each of verdicts components, a minute apart.
type scoreFixture struct {
	*fixture
	badges *sqlitebadges.Store
	next   int64 // the badge log's next position
}

func newScoreFixture(tb testing.TB, verdicts int) *scoreFixture {
	tb.Helper()
	bs, err := sqlitebadges.Open(filepath.Join(tb.TempDir(), "badges.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bs.Close() })
	f := &scoreFixture{fixture: newFixture(tb, 10, Config{Badges: bs}), badges: bs, next: 1}
	pol := upsert(tb, map[string]any{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy",
		"metadata": map[string]any{"name": "tc", "title": "Test certification"},
		"spec": map[string]any{"selector": "true", "levels": []any{"bronze", "silver"},
			"checks": []any{map[string]any{"id": "a", "level": "bronze", "rule": "true", "message": "a"},
				map[string]any{"id": "b", "level": "silver", "rule": "true", "message": "b"}},
			"campaigns": []any{map[string]any{"id": "all-silver", "level": "silver", "deadline": "2099-01-01"}}}}, 1000)
	if err := f.cat.Apply(context.Background(), []event.Envelope{pol}); err != nil {
		tb.Fatal(err)
	}
	var batch []event.Envelope
	for i := range verdicts {
		batch = append(batch, f.verdict(tb, i))
		if len(batch) == 5000 || i == verdicts-1 {
			if err := bs.Apply(context.Background(), batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return f
}

// verdict makes the next badge event of tc: component i at level bronze or
// silver (or none), by turns.
func (f *scoreFixture) verdict(tb testing.TB, i int) event.Envelope {
	tb.Helper()
	rank := (i + int(f.next)) % 3
	level := []string{"", "bronze", "silver"}[rank]
	ev := badgetest.BadgeEvent(tb, 0, f.next, event.TypeBadgeAwarded, "component:default/v-"+strconv.Itoa(i), level, rank, true)
	f.next++
	return ev
}

// benchVerdicts is the badge read model's size of BenchmarkScorecardAfterWrite:
// 100,000 verdicts unless BACKLOT_UI_BENCH_VERDICTS says otherwise.
func benchVerdicts() int {
	if n, err := strconv.Atoi(os.Getenv("BACKLOT_UI_BENCH_VERDICTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkScorecardAfterWrite changes one verdict before each request, as
// a live scorecard page sees while badges are evaluated, and reports each
// page's p50 and the process's CPU per request (background recounts
// included).
func BenchmarkScorecardAfterWrite(b *testing.B) {
	n := benchVerdicts()
	start := time.Now()
	f := newScoreFixture(b, n)
	b.Logf("%d verdicts applied in %s", n, time.Since(start).Round(time.Millisecond))
	for _, c := range []struct{ name, path string }{
		{"scorecard", "/scorecards/tc"}, {"scorecards", "/scorecards"}, {"catalog", "/catalog"},
	} {
		path := c.path
		b.Run(c.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				if err := f.badges.Apply(context.Background(), []event.Envelope{f.verdict(b, i%n)}); err != nil {
					b.Fatal(err)
				}
				i++
				t0 := time.Now()
				code, body := f.get(b, path)
				times = append(times, time.Since(t0))
				if code != 200 {
					b.Fatalf("GET %s: %d %s", path, code, body)
				}
			}
			cpu := cpuTime() - cpu0
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(times)), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
