package badging_test

import (
	"context"
	"reflect"
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
