package webui

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore"
)

// scoreFixture is a portal whose catalog holds the policy tc (levels bronze
// and silver, a campaign) and whose badge read model holds one verdict of
// tc for each of verdicts components, a minute apart.
type scoreFixture struct {
	*fixture
	badges *sqlitebadges.Store
	n      int   // how many components have a verdict
	next   int64 // the badge log's next position
}

func newScoreFixture(tb testing.TB, verdicts int) *scoreFixture {
	tb.Helper()
	return newScoreFixtureN(tb, 10, verdicts)
}

// newScoreFixtureN is newScoreFixture over a catalog of entities synthetic
// components (newFixture's).
func newScoreFixtureN(tb testing.TB, entities, verdicts int) *scoreFixture {
	tb.Helper()
	bs, err := sqlitebadges.Open(filepath.Join(tb.TempDir(), "badges.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bs.Close() })
	f := &scoreFixture{fixture: newFixture(tb, entities, Config{Badges: bs}), badges: bs, n: verdicts, next: 1}
	pol := upsert(tb, map[string]any{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy",
		"metadata": map[string]any{"name": "tc", "title": "Test certification"},
		"spec": map[string]any{"selector": "true", "levels": []any{"bronze", "silver"},
			"checks": []any{map[string]any{"id": "a", "level": "bronze", "rule": "true", "message": "a"},
				map[string]any{"id": "b", "level": "silver", "rule": "true", "message": "b"}},
			"campaigns": []any{map[string]any{"id": "all-silver", "level": "silver", "deadline": "2099-01-01"}}}}, int64(entities+1000))
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

// verdict makes the next badge event of tc: component i at no level,
// bronze or silver by i (the first verdicts: v-0 none, v-1 bronze, v-2
// silver, ...), one level up for each time every component had one.
func (f *scoreFixture) verdict(tb testing.TB, i int) event.Envelope {
	tb.Helper()
	rank := (i + int(f.next-1)/max(f.n, 1)) % 3
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

// TestScorecardCountsLagBehindManyVerdicts serves the scorecard pages with a
// count cache exact up to 3 changes: after a verdict changes, a policy whose
// verdicts changed more often shows its counts, trend and campaigns from
// before (marked ≈, with a note) and recounts nothing on the request, while
// its entities are listed as they are now; with a cache exact up to 1,000
// changes the same pages are recounted and exact.
func TestScorecardCountsLagBehindManyVerdicts(t *testing.T) {
	const verdicts = 30
	f := newScoreFixture(t, verdicts)
	f.srv.cfg.Scorecards = badging.NewScorecards(f.srv.cfg.Badges, catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: time.Hour})
	get := func(path string) string {
		t.Helper()
		code, body := f.get(t, path)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	levelCount := regexp.MustCompile(`data-level-count="silver">(?:<span class="approx" data-lagging title="counted [0-9.]+ s ago; the catalog changes faster than it is counted">≈ )?([0-9,]+)<`)
	silver := func(body string) string {
		t.Helper()
		m := levelCount.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no silver count in:\n%s", excerpt(body, "data-level-count"))
		}
		return m[1]
	}
	if body := get("/catalog"); !strings.Contains(body, `tc:silver</span> <span class="count" aria-label="10 entities">10<`) {
		t.Fatalf("the catalog's badge filter does not count 10 silver, exact:\n%s", excerpt(body, "tc:silver"))
	}
	for _, path := range []string{"/scorecards/tc", "/scorecards"} {
		if body := get(path); strings.Contains(body, "≈") || strings.Contains(body, "lag-note") || silver(body) != "10" {
			t.Fatalf("GET %s before any change: want 10 silver, exact:\n%s", path, excerpt(body, "data-level-count"))
		}
	}
	recounts := f.srv.cfg.Scorecards.Stats().Recomputes
	time.Sleep(150 * time.Millisecond)

	// v-2 was silver; it falls to no level, five times over (the same
	// verdict, each a change).
	for range 5 {
		ev := badgetest.BadgeEvent(t, 0, f.next, event.TypeBadgeRevoked, "component:default/v-2", "", 0, true)
		f.next++
		if err := f.badges.Apply(context.Background(), []event.Envelope{ev}); err != nil {
			t.Fatal(err)
		}
		body := get("/scorecards/tc")
		if silver(body) != "10" || !strings.Contains(body, `data-level-count="silver"><span class="approx" data-lagging`) {
			t.Fatalf("after a change the silver count is not the lagging 10:\n%s", excerpt(body, "data-level-count"))
		}
		if !strings.Contains(body, `<p class="muted lag-note">Counts marked ≈, the trend, the owners and the campaigns were counted `) {
			t.Errorf("the scorecard does not say its counts lag")
		}
		if !regexp.MustCompile(`data-entity="component:default/v-2">\s*<td>.*</td>\s*<td><span class="pill lvl-none">`).MatchString(body) {
			t.Errorf("the entities listed are not current: v-2 is not at no level:\n%s", excerpt(body, `data-entity="component:default/v-2"`))
		}
		if body := get("/scorecards"); !strings.Contains(body, "≈ 30</span> entities rated") || !strings.Contains(body, "verdicts change faster than they are counted") {
			t.Errorf("the scorecards' lagging total is not marked:\n%s", excerpt(body, "rated"))
		}
		// The catalog's badge filter counts from the same tally.
		if body := get("/catalog"); !strings.Contains(body, `tc:silver</span> <span class="count" aria-label="about 10 entities, counted `) {
			t.Errorf("the catalog's lagging badge filter is not marked:\n%s", excerpt(body, "tc:silver"))
		}
	}
	if got := f.srv.cfg.Scorecards.Stats().Recomputes; got != recounts {
		t.Errorf("requests after a change recounted %d times; a lagging answer is served without a recount", got-recounts)
	}

	// A cache exact up to 1,000 changes recounts the policy's 35 changes on
	// the request: 9 silver now, exact.
	f.srv.cfg.Scorecards = badging.NewScorecards(f.srv.cfg.Badges, catalogstore.LagOptions{ExactUpTo: 1000, MaxLag: time.Hour, RefreshEvery: time.Hour})
	get("/scorecards/tc")
	ev := badgetest.BadgeEvent(t, 0, f.next, event.TypeBadgeRevoked, "component:default/v-5", "", 0, true)
	f.next++
	if err := f.badges.Apply(context.Background(), []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
	if body := get("/scorecards/tc"); strings.Contains(body, "≈") || silver(body) != "8" {
		t.Errorf("with few changes the count is not recounted exactly (want 8 silver):\n%s", excerpt(body, "data-level-count"))
	}
}
