package badging_test

import (
	"context"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
)

// changesOnly is a badge read model that answers Changes, Tally and Results
// from fixed data.
type changesOnly struct {
	badges.Reader
	changes []badges.Change
	tally   []badges.TallyRow
	results []badges.Badge
}

func (c changesOnly) Changes(_ context.Context, policy string, fn func(badges.Change) bool) error {
	for _, ch := range c.changes {
		if ch.Data.Policy == policy && !fn(ch) {
			break
		}
	}
	return nil
}

func (c changesOnly) Tally(context.Context, string) ([]badges.TallyRow, error) { return c.tally, nil }

func (c changesOnly) Results(_ context.Context, q badges.ResultQuery) ([]badges.Badge, error) {
	var out []badges.Badge
	for _, b := range c.results {
		if b.Entity > q.After && (!q.ByLevel || b.Level == q.Level) && (q.Owner == "" || b.Owner == q.Owner) && len(out) < q.Limit {
			out = append(out, b)
		}
	}
	return out, nil
}

var day0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

func change(at time.Time, entity string, applies bool, level string, rank int, campaigns ...string) badges.Change {
	return badges.Change{Mark: history.Mark{Time: at}, Data: event.BadgeChanged{
		Entity: entity, Policy: "certified", Applies: applies, Level: level, LevelRank: rank, Campaigns: campaigns}}
}

func policy() *policies.Policy {
	p := &policies.Policy{}
	p.Metadata.Name = "certified"
	p.Spec.Levels = []string{"bronze", "silver"}
	p.Spec.Campaigns = []policies.Campaign{{ID: "q1", Level: "silver", Deadline: "2026-01-11"}}
	return p
}

func TestLevelHistoryAndCampaigns(t *testing.T) {
	t.Parallel()
	br := changesOnly{changes: []badges.Change{
		change(day0, "component:default/a", true, "bronze", 1, "q1"),
		change(day0.Add(time.Hour), "component:default/b", true, "", 0, "q1"),
		change(day0.Add(24*time.Hour), "component:default/a", true, "silver", 2, "q1"),
		change(day0.Add(48*time.Hour), "component:default/b", false, "", 0),
	}}
	end1 := day0.Truncate(24 * time.Hour).Add(24 * time.Hour)
	end2, end3 := end1.Add(24*time.Hour), end1.Add(48*time.Hour)

	series, err := badging.LevelHistory(context.Background(), br, policy(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := []badging.SeriesPoint{
		{Time: end1, Total: 2, Counts: map[string]int{"none": 1, "bronze": 1, "silver": 0}},
		{Time: end2, Total: 2, Counts: map[string]int{"none": 1, "bronze": 0, "silver": 1}},
		{Time: end3, Total: 1, Counts: map[string]int{"none": 0, "bronze": 0, "silver": 1}},
	}
	if !reflect.DeepEqual(series, want) {
		t.Errorf("LevelHistory = %+v\nwant %+v", series, want)
	}

	now := time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC)
	camps, err := badging.Campaigns(context.Background(), br, policy(), 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(camps) != 1 {
		t.Fatalf("got %d campaigns", len(camps))
	}
	c := camps[0]
	wantBurn := []badging.BurndownPoint{{Time: end1, Total: 2, Remaining: 2}, {Time: end2, Total: 2, Remaining: 1}, {Time: end3, Total: 1, Remaining: 0}}
	if c.ID != "q1" || c.Total != 1 || c.Reached != 1 || c.Remaining != 0 || c.Overdue || !reflect.DeepEqual(c.Burndown, wantBurn) {
		t.Errorf("campaign = %+v, want q1 with 1 of 1 reached, not overdue, burndown %+v", c, wantBurn)
	}

	// Before b left, the campaign was behind after its deadline day.
	br.changes = br.changes[:3]
	camps, err = badging.Campaigns(context.Background(), br, policy(), 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if c := camps[0]; c.Remaining != 1 || !c.Overdue {
		t.Errorf("campaign = %+v, want 1 remaining and overdue", c)
	}
	if series, _ := badging.LevelHistory(context.Background(), changesOnly{}, policy(), time.Hour); series == nil || len(series) != 0 {
		t.Errorf("a policy without verdicts has an empty series, not %v", series)
	}
}

func TestPolicyResults(t *testing.T) {
	t.Parallel()
	failing := event.CheckOutcome{ID: "owner", Level: "bronze", Passed: false}
	passing := event.CheckOutcome{ID: "docs", Level: "silver", Passed: true}
	br := changesOnly{
		tally: []badges.TallyRow{{Owner: "group:default/a", Level: "bronze", Count: 2}, {Owner: "group:default/a", Level: "", Count: 1}, {Owner: "group:default/b", Level: "silver", Count: 1}},
		results: []badges.Badge{
			{Entity: "component:default/a", Owner: "group:default/a", Level: "bronze", Checks: []event.CheckOutcome{failing, passing}},
			{Entity: "component:default/b", Owner: "group:default/a", Level: "bronze", Checks: []event.CheckOutcome{passing}},
			{Entity: "component:default/c", Owner: "group:default/b", Level: "silver", Checks: []event.CheckOutcome{failing}},
		},
	}
	res, err := badging.PolicyResults(context.Background(), br, policy(), badging.ResultsQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 4 || !reflect.DeepEqual(res.Counts, map[string]int{"none": 1, "bronze": 2, "silver": 1}) {
		t.Errorf("total %d counts %v", res.Total, res.Counts)
	}
	if len(res.Owners) != 2 || res.Owners[0].Total != 3 || res.Owners[1].Counts["silver"] != 1 {
		t.Errorf("owners = %+v", res.Owners)
	}
	if len(res.Items) != 2 || res.NextAfter != "component:default/b" || len(res.Items[1].Failing) != 0 || res.Items[1].Failing == nil {
		t.Errorf("page = %+v next %q, want a and b (b with an empty failing list) and more after b", res.Items, res.NextAfter)
	}
	res, err = badging.PolicyResults(context.Background(), br, policy(), badging.ResultsQuery{Check: "owner", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 || res.Items[0].Entity != "component:default/a" || res.Items[1].Entity != "component:default/c" || res.NextAfter != "" {
		t.Errorf("failing owner = %+v next %q, want a and c", res.Items, res.NextAfter)
	}
}

// recountLevelHistory and recountCampaigns are the first computation of
// LevelHistory and Campaigns, kept here as the reference the kept counts
// must equal: at the end of each bucket they count every entity again.
func recountLevelHistory(changes []badges.Change, p *policies.Policy, bucket time.Duration) []badging.SeriesPoint {
	levels := map[string]string{}
	series := []badging.SeriesPoint{}
	flush := func(end time.Time) {
		pt := badging.SeriesPoint{Time: end, Counts: map[string]int{badging.NoLevel: 0}}
		for _, l := range p.Spec.Levels {
			pt.Counts[l] = 0
		}
		for _, l := range levels {
			pt.Counts[l]++
			pt.Total++
		}
		series = append(series, pt)
	}
	var end time.Time
	for _, c := range changes {
		if b := c.Time.Truncate(bucket).Add(bucket); !b.Equal(end) {
			if !end.IsZero() {
				flush(end)
			}
			end = b
		}
		key := badges.Key(c.Data.Entity)
		switch {
		case !c.Data.Applies:
			delete(levels, key)
		case c.Data.Level == "":
			levels[key] = badging.NoLevel
		default:
			levels[key] = c.Data.Level
		}
	}
	if !end.IsZero() {
		flush(end)
	}
	return series
}

func recountCampaigns(changes []badges.Change, p *policies.Policy, bucket time.Duration) [][]badging.BurndownPoint {
	rank := map[string]int{}
	for i, l := range p.Spec.Levels {
		rank[l] = i + 1
	}
	type standing struct {
		in      map[string]bool
		reached int
	}
	entities := map[string]standing{}
	out := make([][]badging.BurndownPoint, len(p.Spec.Campaigns))
	flush := func(end time.Time) {
		for i, c := range p.Spec.Campaigns {
			pt := badging.BurndownPoint{Time: end}
			for _, e := range entities {
				if e.in[c.ID] {
					pt.Total++
					if e.reached < rank[c.Level] {
						pt.Remaining++
					}
				}
			}
			out[i] = append(out[i], pt)
		}
	}
	var end time.Time
	for _, c := range changes {
		if b := c.Time.Truncate(bucket).Add(bucket); !b.Equal(end) {
			if !end.IsZero() {
				flush(end)
			}
			end = b
		}
		key := badges.Key(c.Data.Entity)
		if !c.Data.Applies {
			delete(entities, key)
			continue
		}
		st := standing{in: map[string]bool{}, reached: c.Data.LevelRank}
		for _, id := range c.Data.Campaigns {
			st.in[id] = true
		}
		entities[key] = st
	}
	if !end.IsZero() {
		flush(end)
	}
	return out
}

// randomChanges makes n changes of entities entity-0 … entity-(m-1), a few
// minutes apart: levels of the policy, no level, a level the policy no
// longer names, entities that stop applying, and campaigns joined and left.
func randomChanges(rng *rand.Rand, n, m int) []badges.Change {
	levels := []string{"", "bronze", "silver", "gold-retired"}
	camps := [][]string{nil, {"q1"}, {"q2"}, {"q1", "q2"}}
	out := make([]badges.Change, n)
	at := day0
	for i := range out {
		at = at.Add(time.Duration(rng.IntN(180)) * time.Minute)
		r := rng.IntN(len(levels))
		out[i] = change(at, "component:default/entity-"+strconv.Itoa(rng.IntN(m)), rng.IntN(8) > 0, levels[r], r, camps[rng.IntN(len(camps))]...)
	}
	return out
}

func twoCampaignPolicy() *policies.Policy {
	p := policy()
	p.Spec.Campaigns = append(p.Spec.Campaigns, policies.Campaign{ID: "q2", Level: "bronze", Deadline: "2026-02-01"})
	return p
}

// TestKeptCountsEqualARecount checks LevelHistory's and Campaigns' counts,
// kept as the changes are applied, against a recount of every entity at the
// end of each bucket, over random changes in buckets of an hour, a day and a
// week.
func TestKeptCountsEqualARecount(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 7))
	p := twoCampaignPolicy()
	for _, tc := range []struct {
		name    string
		n, m    int
		buckets time.Duration
	}{
		{"hour", 400, 30, time.Hour},
		{"day", 2000, 150, 24 * time.Hour},
		{"week", 3000, 60, 7 * 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := changesOnly{changes: randomChanges(rng, tc.n, tc.m)}
			series, err := badging.LevelHistory(context.Background(), br, p, tc.buckets)
			if err != nil {
				t.Fatal(err)
			}
			want := recountLevelHistory(br.changes, p, tc.buckets)
			if len(want) < 3 {
				t.Fatalf("the case has %d buckets; it means to test several", len(want))
			}
			if !reflect.DeepEqual(series, want) {
				t.Errorf("LevelHistory differs from a recount:\n got %+v\nwant %+v", series, want)
			}
			camps, err := badging.Campaigns(context.Background(), br, p, tc.buckets, day0)
			if err != nil {
				t.Fatal(err)
			}
			wantBurn := recountCampaigns(br.changes, p, tc.buckets)
			for i, c := range camps {
				if !reflect.DeepEqual(c.Burndown, wantBurn[i]) {
					t.Errorf("campaign %s's burndown differs from a recount:\n got %+v\nwant %+v", c.ID, c.Burndown, wantBurn[i])
				}
				last := wantBurn[i][len(wantBurn[i])-1]
				if c.Total != last.Total || c.Remaining != last.Remaining || c.Reached != last.Total-last.Remaining {
					t.Errorf("campaign %s stands at %d of %d remaining, the recount at %d of %d", c.ID, c.Remaining, c.Total, last.Remaining, last.Total)
				}
			}
		})
	}
}

// BenchmarkLevelHistory replays BACKLOT_PROGRESS_BENCH_N changes (default
// 100,000) of as many entities, spread over 100 days, into the trend and
// the campaigns by day (100 buckets): the replay itself is the reader's, so
// this measures what LevelHistory and Campaigns add per change and bucket.
func BenchmarkLevelHistory(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_PROGRESS_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	p := twoCampaignPolicy()
	changes := make([]badges.Change, n)
	step := 100 * 24 * time.Hour / time.Duration(n)
	for i := range changes {
		r := i % 3
		changes[i] = change(day0.Add(time.Duration(i)*step), "component:default/entity-"+strconv.Itoa(i), true, []string{"", "bronze", "silver"}[r], r, "q1")
	}
	br := changesOnly{changes: changes}
	b.Run("trend", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := badging.LevelHistory(context.Background(), br, p, 24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("campaigns", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := badging.Campaigns(context.Background(), br, p, 24*time.Hour, day0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}
