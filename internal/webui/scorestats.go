package webui

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// scoreStats is what a policy's scorecard counts over every verdict of the
// policy: its tally per owner and level, the trend of its levels and its
// campaigns (both replay every change of its verdicts).
type scoreStats struct {
	Tally     []badges.TallyRow
	History   []badging.SeriesPoint
	Campaigns []badging.CampaignProgress
}

// scoreStatsOf returns pol's stats, with the trend and campaigns by bucket,
// through the server's lagging cache (the catalog stores'
// catalogstore.LagCache, keyed by the badge read model's positions): exact
// while no verdict changed; after a change, counted again on the request when
// the policy's verdicts changed at most ExactUpTo times in all (a bounded
// replay), else the last answer, at most scoreMaxLag old, marked by the Lag,
// while one background recount refreshes it. Without the cache every live
// refresh of a scorecard replayed every change of the policy: at 100,000
// verdicts 1.7–1.9 s of CPU a request.
func (s *Server) scoreStatsOf(ctx context.Context, pol *policies.Policy, bucket time.Duration) (scoreStats, Lag, error) {
	br := s.cfg.Badges
	now := time.Now()
	a, lag, err := s.scoreCached(ctx, scoreKey(pol, bucket, now),
		func(ctx context.Context, limit int) (any, int, error) {
			return countScore(ctx, br, pol, bucket, now, limit)
		})
	if err != nil {
		return scoreStats{}, Lag{}, err
	}
	return a.(scoreStats), lag, nil
}

// tallyOf returns the policy's tally per owner and level through the same
// cache: exact while no verdict changed, or when the policy has at most
// ExactUpTo verdicts; else the last tally, marked by the Lag. The tally is a
// kept table on SQLite and a count of the policy's verdicts on PostgreSQL.
func (s *Server) tallyOf(ctx context.Context, policy string) ([]badges.TallyRow, Lag, error) {
	br := s.cfg.Badges
	a, lag, err := s.scoreCached(ctx, "tally\x00"+policy,
		func(ctx context.Context, _ int) (any, int, error) {
			rows, err := br.Tally(ctx, policy)
			n := 0
			for _, r := range rows {
				n += r.Count
			}
			return rows, n, err
		})
	if err != nil {
		return nil, Lag{}, err
	}
	return a.([]badges.TallyRow), lag, nil
}

// scoreCached answers key through s.scoreLag at the badge read model's
// positions. count computes the answer and says how many things it counted;
// with limit > 0 it may stop past limit of them, its answer then unused.
func (s *Server) scoreCached(ctx context.Context, key string, count func(ctx context.Context, limit int) (any, int, error)) (any, Lag, error) {
	br := s.cfg.Badges
	pos, err := br.Positions(ctx)
	if err != nil {
		return nil, Lag{}, err
	}
	ctx, lag := lagNote(ctx)
	a, err := s.scoreLag.Get(ctx, key, event.Positions(pos).String(),
		func(ctx context.Context, limit int) (any, bool, error) {
			v, n, err := count(ctx, limit)
			return v, err == nil && n <= limit, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			pos, err := br.Positions(ctx)
			if err != nil {
				return nil, "", false, err
			}
			v, n, err := count(ctx, 0)
			return v, event.Positions(pos).String(), n <= limit, err
		})
	if err != nil {
		return nil, Lag{}, err
	}
	return a.Value, lag(), nil
}

// countScore computes pol's stats from br and says how many changes of its
// verdicts a replay read (the most of the two). With limit > 0 a replay stops
// past limit changes and the stats are incomplete: n > limit says so.
func countScore(ctx context.Context, br badges.Reader, pol *policies.Policy, bucket time.Duration, now time.Time, limit int) (scoreStats, int, error) {
	var st scoreStats
	var err error
	bounded := &boundedChanges{Reader: br, limit: limit}
	if st.History, err = badging.LevelHistory(ctx, bounded, pol, bucket); err != nil || limit > 0 && bounded.n > limit {
		return st, bounded.n, err
	}
	n := bounded.n
	bounded.n = 0
	if st.Campaigns, err = badging.Campaigns(ctx, bounded, pol, bucket, now); err != nil || limit > 0 && bounded.n > limit {
		return st, max(n, bounded.n), err
	}
	st.Tally, err = br.Tally(ctx, pol.Metadata.Name)
	return st, max(n, bounded.n), err
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

// talliedBadges is a badge reader whose Tally is one already counted, so
// that badging.PolicyResults reads its page of entities fresh and its counts
// from the cache.
type talliedBadges struct {
	badges.Reader
	tally []badges.TallyRow
}

// Tally returns the tally counted before.
func (t talliedBadges) Tally(context.Context, string) ([]badges.TallyRow, error) {
	return t.tally, nil
}

// scoreKey names pol's stats in the cache: its name, a digest of its spec
// (levels and campaigns change the answer), the bucket, and the day (a
// campaign is overdue after its deadline's day).
func scoreKey(pol *policies.Policy, bucket time.Duration, now time.Time) string {
	spec, _ := json.Marshal(pol.Spec)
	h := fnv.New64a()
	h.Write(spec)
	return strings.Join([]string{"score", pol.Metadata.Name, strconv.FormatUint(h.Sum64(), 16),
		bucket.String(), now.UTC().Format(policies.CampaignDateLayout)}, "\x00")
}

// The scorecard cache's bounds, chosen on purpose: a replay of a policy's
// changes costs about 19 µs of CPU a change (1.9 s at 100,000 verdicts,
// BenchmarkScorecardAfterWrite), so unlike a catalog count it can take longer
// than the catalog's 5 s lag on a loaded machine, and an answer older than
// MaxLag would then be recounted on every request. A trend by hour, day or
// week and a campaign's standing may lag a few minutes.
const (
	// scoreMaxLag is how old a lagging scorecard answer may be.
	scoreMaxLag = 5 * time.Minute
	// scoreRefreshEvery is the least time between two background replays
	// of one policy's scorecard: at most one replay per 30 s, however many
	// pages are open and however fast verdicts change.
	scoreRefreshEvery = 30 * time.Second
	// scoreMaxEntries bounds the scorecards kept (a policy, a bucket).
	scoreMaxEntries = 256
)

// newScoreLag is the cache of the scorecard pages' counts: exact up to
// catalogstore.DefaultExactUpTo changes of a policy's verdicts, at most
// scoreMaxLag old otherwise.
func newScoreLag() *catalogstore.LagCache {
	return catalogstore.NewLagCache(catalogstore.LagOptions{MaxLag: scoreMaxLag, RefreshEvery: scoreRefreshEvery, MaxEntries: scoreMaxEntries})
}
