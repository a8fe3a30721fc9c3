package webui

import (
	"context"
	"time"

	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
)

// scoreStatsOf returns pol's scorecard, with the trend and campaigns by
// bucket, through the server's scorecards (badging.Scorecards, a lagging
// cache shared with the API's history and campaigns), and whether it lags.
func (s *Server) scoreStatsOf(ctx context.Context, pol *policies.Policy, bucket time.Duration) (badging.Scorecard, Lag, error) {
	ctx, lag := lagNote(ctx)
	sc, err := s.cfg.Scorecards.Of(ctx, pol, bucket, time.Now())
	if err != nil {
		return badging.Scorecard{}, Lag{}, err
	}
	return sc, lag(), nil
}

// tallyOf returns the policy's tally per owner and level through the same
// scorecards, and whether it lags.
func (s *Server) tallyOf(ctx context.Context, policy string) ([]badges.TallyRow, Lag, error) {
	ctx, lag := lagNote(ctx)
	rows, err := s.cfg.Scorecards.Tally(ctx, policy)
	if err != nil {
		return nil, Lag{}, err
	}
	return rows, lag(), nil
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
