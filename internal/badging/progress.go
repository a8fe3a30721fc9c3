package badging

import (
	"context"
	"slices"
	"time"

	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
)

// NoLevel is the level key under which entities that reach no level are counted.
const NoLevel = "none"

// SeriesPoint is how many entities stood at each level at the end of a bucket.
type SeriesPoint struct {
	// Time is the end of the bucket.
	Time time.Time `json:"time"`
	// Total is how many entities the policy applied to.
	Total int `json:"total"`
	// Counts is the entities per level, NoLevel for those that reach none;
	// every level of the policy is present, zero or not.
	Counts map[string]int `json:"counts"`
}

// CampaignProgress is a campaign's standing and its burndown.
type CampaignProgress struct {
	policies.Campaign
	// Total is how many entities the campaign counts now; Reached how many of
	// them stand at its level or above; Remaining the rest.
	Total     int `json:"total"`
	Reached   int `json:"reached"`
	Remaining int `json:"remaining"`
	// Overdue reports entities remaining after the campaign's deadline day.
	Overdue bool `json:"overdue"`
	// Burndown is the entities remaining at the end of each bucket in which a
	// verdict changed.
	Burndown []BurndownPoint `json:"burndown"`
}

// BurndownPoint is a campaign's count at the end of a bucket.
type BurndownPoint struct {
	Time      time.Time `json:"time"`
	Total     int       `json:"total"`
	Remaining int       `json:"remaining"`
}

// replayBuckets applies the changes of a policy's verdicts in time order
// and calls flush with the end of each bucket in which one happened, once
// that bucket's changes are applied.
func replayBuckets(ctx context.Context, br badges.Reader, policy string, bucket time.Duration, apply func(badges.Change), flush func(end time.Time)) error {
	var end time.Time
	err := br.Changes(ctx, policy, func(c badges.Change) bool {
		if b := c.Time.Truncate(bucket).Add(bucket); !b.Equal(end) {
			if !end.IsZero() {
				flush(end)
			}
			end = b
		}
		apply(c)
		return true
	})
	if err == nil && !end.IsZero() {
		flush(end)
	}
	return err
}

// LevelHistory replays the policy's verdict changes from br and returns how
// many entities stood at each level at the end of each bucket in which a
// verdict changed, from the first verdict on, oldest first. It returns an
// empty series, not nil, for a policy without verdicts. The counts per level
// are kept as the changes are applied, so a bucket costs the policy's levels,
// not its entities: the replay reads each change once and nothing more.
func LevelHistory(ctx context.Context, br badges.Reader, p *policies.Policy, bucket time.Duration) ([]SeriesPoint, error) {
	levels := map[string]string{} // entity -> its level now
	counts := map[string]int{}    // level -> entities at it now
	series := []SeriesPoint{}
	err := replayBuckets(ctx, br, p.Metadata.Name, bucket, func(c badges.Change) {
		key := badges.Key(c.Data.Entity)
		if old, ok := levels[key]; ok {
			counts[old]--
		}
		switch {
		case !c.Data.Applies:
			delete(levels, key)
			return
		case c.Data.Level == "":
			levels[key] = NoLevel
		default:
			levels[key] = c.Data.Level
		}
		counts[levels[key]]++
	}, func(end time.Time) {
		pt := SeriesPoint{Time: end, Total: len(levels), Counts: make(map[string]int, len(p.Spec.Levels)+1)}
		pt.Counts[NoLevel] = 0
		for _, l := range p.Spec.Levels {
			pt.Counts[l] = 0
		}
		for l, n := range counts {
			if n > 0 {
				pt.Counts[l] = n
			}
		}
		series = append(series, pt)
	})
	if err != nil {
		return nil, err
	}
	return series, nil
}

// Campaigns replays the policy's verdict changes from br and returns each of
// its campaigns with its standing as of now and its burndown per bucket. A
// campaign is overdue when entities remain after the day of its deadline.
// Each campaign's total and remaining are kept as the changes are applied,
// so a bucket costs the policy's campaigns, not its entities.
func Campaigns(ctx context.Context, br badges.Reader, p *policies.Policy, bucket time.Duration, now time.Time) ([]CampaignProgress, error) {
	rank := map[string]int{}
	for i, l := range p.Spec.Levels {
		rank[l] = i + 1
	}
	out := make([]CampaignProgress, len(p.Spec.Campaigns))
	want := make([]int, len(out))
	for i, c := range p.Spec.Campaigns {
		out[i] = CampaignProgress{Campaign: c, Burndown: []BurndownPoint{}}
		want[i] = rank[c.Level]
	}
	// standing is what an entity adds to the campaigns: the places in out
	// of the campaigns that count it, and the rank it reached.
	type standing struct {
		in      []int
		reached int
	}
	entities := map[string]standing{}
	total, remaining := make([]int, len(out)), make([]int, len(out))
	add := func(st standing, d int) {
		for _, i := range st.in {
			total[i] += d
			if st.reached < want[i] {
				remaining[i] += d
			}
		}
	}
	err := replayBuckets(ctx, br, p.Metadata.Name, bucket, func(c badges.Change) {
		key := badges.Key(c.Data.Entity)
		if old, ok := entities[key]; ok {
			add(old, -1)
		}
		if !c.Data.Applies {
			delete(entities, key)
			return
		}
		st := standing{reached: c.Data.LevelRank}
		for i := range out {
			if slices.Contains(c.Data.Campaigns, out[i].ID) {
				st.in = append(st.in, i)
			}
		}
		entities[key] = st
		add(st, 1)
	}, func(end time.Time) {
		for i := range out {
			out[i].Burndown = append(out[i].Burndown, BurndownPoint{Time: end, Total: total[i], Remaining: remaining[i]})
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Total, out[i].Remaining = total[i], remaining[i]
		out[i].Reached = out[i].Total - out[i].Remaining
		if d, err := time.Parse(policies.CampaignDateLayout, out[i].Deadline); err == nil {
			out[i].Overdue = out[i].Remaining > 0 && now.After(d.Add(24*time.Hour))
		}
	}
	return out, nil
}
