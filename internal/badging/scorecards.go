package badging

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// Scorecard is what a policy's scorecard counts over every verdict of the
// policy: its tally per owner and level, the trend of its levels and its
// campaigns (both replay every change of its verdicts).
type Scorecard struct {
	// Tally is the policy's count of entities per owner and level.
	Tally []badges.TallyRow
	// History is the trend of its levels (LevelHistory).
	History []SeriesPoint
	// Campaigns is each campaign's standing and burndown (Campaigns).
	Campaigns []CampaignProgress
}

// Scorecards counts the policies' scorecards over a badge read model through
// a lagging cache (catalogstore.LagCache, keyed by the read model's
// positions), for the portal's scorecard pages and the API's history and
// campaigns alike, so that one replay serves both: exact while no verdict
// changed; after a change, counted again on the request when the policy's
// verdicts changed at most ExactUpTo times in all (a bounded replay), else
// the last answer, at most MaxLag old, while one background recount
// refreshes it. A lagging answer is recorded in the request's
// catalogstore.LagNote (catalogstore.WithLagNote), which the portal shows as
// "≈" and the API as its Backlot-Lagging header. Without the cache every
// request replayed every change of the policy: at 100,000 verdicts 1.7–1.9 s
// of CPU a request. Safe for concurrent use.
type Scorecards struct {
	br  badges.Reader
	lag *catalogstore.LagCache
}

// The scorecards' cache bounds, chosen on purpose: a replay of a policy's
// changes costs about 19 µs of CPU a change (1.9 s at 100,000 verdicts,
// the portal's BenchmarkScorecardAfterWrite), so unlike a catalog count it
// can take longer than the catalog's 5 s lag on a loaded machine, and an
// answer older than the lag would then be recounted on every request. A
// trend by hour, day or week and a campaign's standing may lag a few
// minutes.
const (
	// ScorecardMaxLag is how old a lagging scorecard answer may be.
	ScorecardMaxLag = 5 * time.Minute
	// ScorecardRefreshEvery is the least time between two background
	// replays of one policy's scorecard: at most one replay per 30 s,
	// however many pages are open and however fast verdicts change.
	ScorecardRefreshEvery = 30 * time.Second
	// ScorecardMaxEntries bounds the scorecards kept (a policy, a bucket).
	ScorecardMaxEntries = 256
)

// NewScorecards returns the scorecards of br's policies. Zero fields of opts
// take the scorecard defaults (ScorecardMaxLag, ScorecardRefreshEvery,
// ScorecardMaxEntries), then catalogstore's (ExactUpTo).
func NewScorecards(br badges.Reader, opts catalogstore.LagOptions) *Scorecards {
	if opts.MaxLag <= 0 {
		opts.MaxLag = ScorecardMaxLag
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = ScorecardRefreshEvery
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = ScorecardMaxEntries
	}
	return &Scorecards{br: br, lag: catalogstore.NewLagCache(opts)}
}

// Reader returns the badge read model the scorecards count over.
func (s *Scorecards) Reader() badges.Reader { return s.br }

// Stats returns the cache's work since it was made.
func (s *Scorecards) Stats() catalogstore.LagStats { return s.lag.Stats() }

// Of returns pol's scorecard, with the trend and campaigns by bucket and
// campaigns judged overdue as of now's day. A lagging answer is recorded in
// ctx's catalogstore.LagNote.
func (s *Scorecards) Of(ctx context.Context, pol *policies.Policy, bucket time.Duration, now time.Time) (Scorecard, error) {
	a, err := s.cached(ctx, scorecardKey(pol, bucket, now),
		func(ctx context.Context, limit int) (any, int, error) {
			return s.count(ctx, pol, bucket, now, limit)
		})
	if err != nil {
		return Scorecard{}, err
	}
	return a.(Scorecard), nil
}

// Tally returns the policy's tally per owner and level through the same
// cache: exact while no verdict changed, or when the policy has at most
// ExactUpTo verdicts; else the last tally, recorded as lagging in ctx's
// catalogstore.LagNote. The tally is a kept table on SQLite and a count of
// the policy's verdicts on PostgreSQL.
func (s *Scorecards) Tally(ctx context.Context, policy string) ([]badges.TallyRow, error) {
	a, err := s.cached(ctx, "tally\x00"+policy,
		func(ctx context.Context, _ int) (any, int, error) {
			rows, err := s.br.Tally(ctx, policy)
			n := 0
			for _, r := range rows {
				n += r.Count
			}
			return rows, n, err
		})
	if err != nil {
		return nil, err
	}
	return a.([]badges.TallyRow), nil
}

// cached answers key through the cache at the badge read model's positions.
// count computes the answer and says how many things it counted; with
// limit > 0 it may stop past limit of them, its answer then unused.
func (s *Scorecards) cached(ctx context.Context, key string, count func(ctx context.Context, limit int) (any, int, error)) (any, error) {
	pos, err := s.br.Positions(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.lag.Get(ctx, key, event.Positions(pos).String(),
		func(ctx context.Context, limit int) (any, bool, error) {
			v, n, err := count(ctx, limit)
			return v, err == nil && n <= limit, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			pos, err := s.br.Positions(ctx)
			if err != nil {
				return nil, "", false, err
			}
			v, n, err := count(ctx, 0)
			return v, event.Positions(pos).String(), n <= limit, err
		})
	if err != nil {
		return nil, err
	}
	return a.Value, nil
}

// count computes pol's scorecard and says how many changes of its verdicts
// a replay read (the most of the two). With limit > 0 a replay stops past
// limit changes and the scorecard is incomplete: n > limit says so.
func (s *Scorecards) count(ctx context.Context, pol *policies.Policy, bucket time.Duration, now time.Time, limit int) (Scorecard, int, error) {
	var sc Scorecard
	var err error
	bounded := &boundedChanges{Reader: s.br, limit: limit}
	if sc.History, err = LevelHistory(ctx, bounded, pol, bucket); err != nil || limit > 0 && bounded.n > limit {
		return sc, bounded.n, err
	}
	n := bounded.n
	bounded.n = 0
	if sc.Campaigns, err = Campaigns(ctx, bounded, pol, bucket, now); err != nil || limit > 0 && bounded.n > limit {
		return sc, max(n, bounded.n), err
	}
	sc.Tally, err = s.br.Tally(ctx, pol.Metadata.Name)
	return sc, max(n, bounded.n), err
}

// boundedChanges is a badge reader whose Changes counts the changes it
// reads in n and, with a limit, stops past limit of them.
type boundedChanges struct {
	badges.Reader
	limit, n int
}

// Changes calls fn for pol's changes until fn says stop or past b.limit.
func (b *boundedChanges) Changes(ctx context.Context, policy string, fn func(badges.Change) bool) error {
	return b.Reader.Changes(ctx, policy, func(c badges.Change) bool {
		b.n++
		if b.limit > 0 && b.n > b.limit {
			return false
		}
		return fn(c)
	})
}

// scorecardKey names pol's scorecard in the cache: its name, a digest of its
// spec (levels and campaigns change the answer), the bucket, and the day (a
// campaign is overdue after its deadline's day).
func scorecardKey(pol *policies.Policy, bucket time.Duration, now time.Time) string {
	spec, _ := json.Marshal(pol.Spec)
	h := fnv.New64a()
	h.Write(spec)
	return strings.Join([]string{"score", pol.Metadata.Name, strconv.FormatUint(h.Sum64(), 16),
		bucket.String(), now.UTC().Format(policies.CampaignDateLayout)}, "\x00")
}
