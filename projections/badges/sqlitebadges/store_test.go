package sqlitebadges_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/history"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func badgeEvent(t *testing.T, pos int64, typ event.Type, entity, level string, rank int, applies bool) event.Envelope {
	t.Helper()
	ev, err := event.New(typ, entity, event.BadgeChanged{Entity: entity, Policy: "tc", Applies: applies, Level: level, LevelRank: rank,
		Checks: []event.CheckOutcome{{ID: "a", Level: "bronze", Passed: rank > 0}}, Changed: []string{"a"}}, event.Meta{Time: t0.Add(time.Duration(pos) * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// TestApplyFoldsVerdictsOnceAndAnswersThePast applies a batch twice (nothing
// doubles), folds facts, sources and verdicts, and answers the verdicts of an
// instant by time and by position.
func TestApplyFoldsVerdictsOnceAndAnswersThePast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlitebadges.Open(filepath.Join(t.TempDir(), "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	facts, _ := event.New(event.TypeFactsReported, "component:default/a", event.FactsReported{Entity: "component:default/a", Source: "ci", Facts: json.RawMessage(`{"coverage":80}`)}, event.Meta{Time: t0})
	facts.Position = 1
	src, _ := event.New(event.TypeFactSourceDeclared, "factsource:ci", event.FactSourceDeclared{Source: "ci", Schema: json.RawMessage(`{"type":"object"}`)}, event.Meta{Time: t0})
	src.Position = 2
	other, _ := event.New(event.TypeLocationRemoved, "location:default/x", event.LocationRemoved{ID: "x"}, event.Meta{Time: t0})
	other.Position = 3
	batch := []event.Envelope{facts, src, other,
		badgeEvent(t, 4, event.TypeBadgeAwarded, "component:default/a", "bronze", 1, true),
		badgeEvent(t, 5, event.TypeBadgeAwarded, "component:default/b", "bronze", 1, true),
		badgeEvent(t, 6, event.TypeBadgeRevoked, "component:default/a", "", 0, true),
		badgeEvent(t, 7, event.TypeBadgeRevoked, "component:default/b", "", 0, false),
	}
	for range 2 {
		if err := s.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if pos, _ := s.Positions(ctx); pos[0] != 7 {
		t.Fatalf("position %v", pos)
	}
	fs, err := s.Facts(ctx, "component:default/a")
	if err != nil || len(fs) != 1 || string(fs[0].Facts) != `{"coverage":80}` {
		t.Fatalf("facts: %v %+v", err, fs)
	}
	if schema, err := s.FactSource(ctx, "ci"); err != nil || string(schema) != `{"type":"object"}` {
		t.Fatalf("source: %v %s", err, schema)
	}
	if _, err := s.FactSource(ctx, "none"); err != badges.ErrNotFound {
		t.Fatalf("missing source: %v", err)
	}
	a, _ := s.Badges(ctx, "component:default/a")
	if len(a) != 1 || a[0].Level != "" || a[0].Since.Position != 6 {
		t.Fatalf("a now: %+v", a)
	}
	if b, _ := s.Badges(ctx, "component:default/b"); len(b) != 0 {
		t.Fatalf("b no longer rated: %+v", b)
	}
	var n int
	s.Changes(ctx, "tc", func(badges.Change) bool { n++; return true })
	if n != 4 {
		t.Fatalf("%d changes, want 4 (the second apply added none)", n)
	}
	for _, c := range []struct {
		name string
		at   history.Instant
		want string
	}{
		{"before", history.AtTime(t0.Add(3 * time.Minute)), "-"},
		{"bronze by time", history.AtTime(t0.Add(5 * time.Minute)), "bronze"},
		{"bronze by position", history.AtPositions(event.Positions{0: 4}), "bronze"},
		{"none after the revocation", history.AtPositions(event.Positions{0: 6}), ""},
	} {
		bs, err := s.BadgesAt(ctx, "component:default/a", c.at)
		if err != nil {
			t.Fatal(err)
		}
		got := "-"
		if len(bs) == 1 {
			got = bs[0].Level
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
