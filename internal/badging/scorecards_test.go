package badging_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore"
)

// tcPolicy is the policy badgetest.BadgeEvent's verdicts belong to.
func tcPolicy() *policies.Policy {
	p := &policies.Policy{}
	p.Metadata.Name = "tc"
	p.Spec.Levels = []string{"bronze", "silver"}
	p.Spec.Campaigns = []policies.Campaign{{ID: "all-silver", Level: "silver", Deadline: "2099-01-01"}}
	return p
}

// TestScorecardsLagBehindManyChanges counts a policy's scorecard over a real
// badge read model through Scorecards exact up to 3 changes: after a verdict
// changes, the policy's 30 changes are not replayed on the request; the
// answer from before is served and noted as lagging, and its tally too. With
// a cache exact up to 1,000 changes the same change is counted at once, and
// the scorecard equals a replay of LevelHistory and Campaigns.
func TestScorecardsLagBehindManyChanges(t *testing.T) {
	ctx := context.Background()
	bs, err := sqlitebadges.Open(filepath.Join(t.TempDir(), "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	var next int64 = 1
	apply := func(typ event.Type, entity, level string, rank int, applies bool) {
		t.Helper()
		ev := badgetest.BadgeEvent(t, 0, next, typ, entity, level, rank, applies)
		next++
		if err := bs.Apply(ctx, []event.Envelope{ev}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		rank := i % 3
		apply(event.TypeBadgeAwarded, "component:default/v-"+strconv.Itoa(i), []string{"", "bronze", "silver"}[rank], rank, true)
	}
	pol, now := tcPolicy(), time.Now()
	silver := func(sc badging.Scorecard) int { return sc.History[len(sc.History)-1].Counts["silver"] }
	of := func(s *badging.Scorecards) (badging.Scorecard, bool) {
		t.Helper()
		nctx, note := catalogstore.WithLagNote(ctx)
		sc, err := s.Of(nctx, pol, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		lagging, _ := note.Lagging()
		return sc, lagging
	}

	lazy := badging.NewScorecards(bs, catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: time.Hour})
	before, lagging := of(lazy)
	if lagging || silver(before) != 10 || len(before.Campaigns) != 1 {
		t.Fatalf("before any change: lagging %v, silver %d, campaigns %+v; want exact, 10 silver, one campaign", lagging, silver(before), before.Campaigns)
	}
	if _, err := lazy.Tally(ctx, "tc"); err != nil {
		t.Fatal(err)
	}
	recounts := lazy.Stats().Recomputes
	time.Sleep(20 * time.Millisecond)
	apply(event.TypeBadgeRevoked, "component:default/v-2", "", 0, true)
	after, lagging := of(lazy)
	if !lagging || !reflect.DeepEqual(after, before) {
		t.Fatalf("after a change over 3: lagging %v, silver %d; want the answer from before (10 silver), noted as lagging", lagging, silver(after))
	}
	nctx, note := catalogstore.WithLagNote(ctx)
	if _, err := lazy.Tally(nctx, "tc"); err != nil {
		t.Fatal(err)
	}
	if got := lazy.Stats().Recomputes; got != recounts {
		t.Errorf("requests after a change recounted %d times; a lagging answer is served without a recount", got-recounts)
	}
	if l, _ := note.Lagging(); !l {
		t.Errorf("the tally of 30 verdicts after a change is not noted as lagging")
	}

	exact := badging.NewScorecards(bs, catalogstore.LagOptions{ExactUpTo: 1000, MaxLag: time.Hour, RefreshEvery: time.Hour})
	of(exact)
	apply(event.TypeBadgeRevoked, "component:default/v-5", "", 0, true)
	got, lagging := of(exact)
	wantHistory, err := badging.LevelHistory(ctx, bs, pol, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantCampaigns, err := badging.Campaigns(ctx, bs, pol, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if lagging || silver(got) != 8 || !reflect.DeepEqual(got.History, wantHistory) || !reflect.DeepEqual(got.Campaigns, wantCampaigns) {
		t.Errorf("with few changes: lagging %v, silver %d; want exact, 8 silver, and a replay's history and campaigns", lagging, silver(got))
	}
}
