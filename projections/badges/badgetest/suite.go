package badgetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
)

// Store is what the suite tests: the read model and the evaluator's positions
// kept beside it.
type Store interface {
	badges.Store
	EvaluatorPositions(ctx context.Context) (event.Positions, error)
	SetEvaluatorPositions(ctx context.Context, pos event.Positions) error
}

// T0 is the time of the suite's first event.
var T0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// BadgeEvent returns a badge event of policy tc at a position of a partition,
// a minute after T0 per position.
func BadgeEvent(t testing.TB, part int32, pos int64, typ event.Type, entity, level string, rank int, applies bool) event.Envelope {
	t.Helper()
	ev, err := event.New(typ, entity, event.BadgeChanged{Entity: entity, Owner: "group:default/team-a", Policy: "tc", Applies: applies, Level: level, LevelRank: rank,
		Checks: []event.CheckOutcome{{ID: "a", Level: "bronze", Passed: rank > 0}}, Changed: []string{"a"}}, event.Meta{Time: T0.Add(time.Duration(pos) * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ev.Partition, ev.Position = part, pos
	return ev
}

func at(ev event.Envelope, part int32, pos int64) event.Envelope {
	ev.Partition, ev.Position = part, pos
	return ev
}

// Run runs the suite; open returns an empty store, closed by the caller's
// cleanup.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("FoldsOnceAndAnswersThePast", func(t *testing.T) { foldsOnce(t, open(t)) })
	t.Run("PartitionsAndEvaluatorPositions", func(t *testing.T) { partitions(t, open(t)) })
	t.Run("BulkEqualsOneAtATime", func(t *testing.T) { bulkEqualsOneAtATime(t, open) })
}

func foldsOnce(t *testing.T, s Store) {
	ctx := context.Background()
	facts, _ := event.New(event.TypeFactsReported, "component:default/a", event.FactsReported{Entity: "component:default/a", Source: "ci", Facts: json.RawMessage(`{"coverage":80}`), ObservedAt: T0}, event.Meta{Time: T0})
	src, _ := event.New(event.TypeFactSourceDeclared, "factsource:ci", event.FactSourceDeclared{Source: "ci", Schema: json.RawMessage(`{"type":"object"}`)}, event.Meta{Time: T0})
	other, _ := event.New(event.TypeLocationRemoved, "location:default/x", event.LocationRemoved{ID: "x"}, event.Meta{Time: T0})
	batch := []event.Envelope{at(facts, 0, 1), at(src, 0, 2), at(other, 0, 3),
		BadgeEvent(t, 0, 4, event.TypeBadgeAwarded, "component:default/a", "bronze", 1, true),
		BadgeEvent(t, 0, 5, event.TypeBadgeAwarded, "component:default/b", "bronze", 1, true),
		BadgeEvent(t, 0, 6, event.TypeBadgeRevoked, "component:default/a", "", 0, true),
		BadgeEvent(t, 0, 7, event.TypeBadgeRevoked, "component:default/b", "", 0, false),
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
	if err != nil || len(fs) != 1 || string(fs[0].Facts) != `{"coverage":80}` || !fs[0].ObservedAt.Equal(T0) {
		t.Fatalf("facts: %v %+v", err, fs)
	}
	if schema, err := s.FactSource(ctx, "ci"); err != nil || string(schema) != `{"type":"object"}` {
		t.Fatalf("source: %v %s", err, schema)
	}
	if _, err := s.FactSource(ctx, "none"); err != badges.ErrNotFound {
		t.Fatalf("missing source: %v", err)
	}
	a, _ := s.Badges(ctx, "component:default/a")
	if len(a) != 1 || a[0].Level != "" || a[0].Since.Position != 6 || a[0].Owner != "group:default/team-a" {
		t.Fatalf("a now: %+v", a)
	}
	if b, _ := s.Badges(ctx, "component:default/b"); len(b) != 0 {
		t.Fatalf("b no longer rated: %+v", b)
	}
	if rs, _ := s.Results(ctx, badges.ResultQuery{Policy: "tc"}); len(rs) != 1 || rs[0].Entity != "component:default/a" {
		t.Fatalf("results: %+v", rs)
	}
	if rs, _ := s.Results(ctx, badges.ResultQuery{Policy: "tc", ByLevel: true, Level: "bronze"}); len(rs) != 0 {
		t.Fatalf("results at bronze: %+v", rs)
	}
	if rs, _ := s.Results(ctx, badges.ResultQuery{Policy: "tc", ByLevel: true, Level: "", Owner: "Group:default/Team-A"}); len(rs) != 1 {
		t.Fatalf("results of team-a at no level: %+v", rs)
	}
	if tally, err := s.Tally(ctx, "tc"); err != nil || len(tally) != 1 || tally[0] != (badges.TallyRow{Owner: "group:default/team-a", Level: "", Count: 1}) {
		t.Fatalf("tally: %v %+v", err, tally)
	}
	var n int
	if err := s.Changes(ctx, "tc", func(badges.Change) bool { n++; return true }); err != nil || n != 4 {
		t.Fatalf("%d changes (%v), want 4: the second apply adds none", n, err)
	}
	for _, c := range []struct {
		name string
		at   history.Instant
		want string
	}{
		{"before", history.AtTime(T0.Add(3 * time.Minute)), "-"},
		{"bronze by time", history.AtTime(T0.Add(5 * time.Minute)), "bronze"},
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

func partitions(t *testing.T, s Store) {
	ctx := context.Background()
	if pos, err := s.EvaluatorPositions(ctx); err != nil || pos.Behind(event.Positions{0: 1}) != 1 {
		t.Fatalf("a new store's evaluator positions: %v %v", pos, err)
	}
	if err := s.SetEvaluatorPositions(ctx, event.Positions{0: 9}); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.EvaluatorPositions(ctx); pos[0] != 9 {
		t.Fatalf("evaluator positions %v", pos)
	}
	ev := BadgeEvent(t, 0, 3, event.TypeBadgeAwarded, "component:default/c", "gold", 3, true)
	if err := s.Apply(ctx, []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
	m, err := s.VerdictsOf(ctx, []string{"component:default/c", "component:default/none"})
	if err != nil || len(m["component:default/c"]) != 1 || m["component:default/c"][0].Level != "gold" || len(m["component:default/none"]) != 0 {
		t.Fatalf("VerdictsOf: %v %+v", err, m)
	}
	var d event.BadgeChanged
	if err := ev.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if v := m["component:default/c"][0]; v.Digest != badges.DigestOf(&d) {
		t.Fatalf("digest %s, want %s", v.Digest, badges.DigestOf(&d))
	}
	full, err := s.BadgesOf(ctx, []string{"component:default/c", "component:default/none"})
	if err != nil || len(full) != 1 || len(full["component:default/c"]) != 1 {
		t.Fatalf("BadgesOf: %v %+v", err, full)
	}
	if b := full["component:default/c"][0]; b.Level != "gold" || b.Rank != 3 || len(b.Checks) != 1 || b.EventID != ev.ID ||
		b.Since.Position != 3 || !b.Since.Time.Equal(ev.Time) || b.Entity != "component:default/c" || b.Owner != "group:default/team-a" {
		t.Fatalf("BadgesOf: %+v", b)
	}
	cs, err := s.EntityChanges(ctx, "component:default/c")
	if err != nil || len(cs) != 1 || cs[0].EventID != ev.ID || cs[0].Data.Level != "gold" {
		t.Fatalf("EntityChanges: %v %+v", err, cs)
	}
}

// mixedLog returns n facts, fact source and badge events at positions 1..n
// of partition 0, from a fixed seed: few entities, policies and sources, so
// a batch writes the same row many times over (awarded, changed, revoked,
// reported again).
func mixedLog(t testing.TB, n int) []event.Envelope {
	t.Helper()
	rnd := rand.New(rand.NewPCG(17, 6))
	types := []event.Type{event.TypeBadgeAwarded, event.TypeCheckChanged, event.TypeBadgeRevoked}
	levels := []string{"", "bronze", "silver", "gold"}
	out := make([]event.Envelope, 0, n)
	for pos := int64(1); pos <= int64(n); pos++ {
		entity := fmt.Sprintf("component:default/e%d", rnd.IntN(12))
		when := T0.Add(time.Duration(pos) * time.Minute)
		var ev event.Envelope
		var err error
		switch k := rnd.IntN(10); {
		case k < 3:
			facts := fmt.Sprintf(`{"coverage":%d,"passing":%t}`, rnd.IntN(100), rnd.IntN(2) == 0)
			ev, err = event.New(event.TypeFactsReported, entity, event.FactsReported{Entity: entity, Source: []string{"ci", "sec"}[rnd.IntN(2)],
				Facts: json.RawMessage(facts), ObservedAt: when.Add(-time.Duration(rnd.IntN(90)) * time.Second)}, event.Meta{Time: when})
		case k < 4:
			schema := []string{`{"type":"object"}`, `null`, `{"required":["coverage"]}`}[rnd.IntN(3)]
			src := []string{"ci", "sec"}[rnd.IntN(2)]
			ev, err = event.New(event.TypeFactSourceDeclared, event.FactSourceSubject(src), event.FactSourceDeclared{Source: src, Schema: json.RawMessage(schema)}, event.Meta{Time: when})
		case k < 5:
			ev, err = event.New(event.TypeLocationRemoved, "location:default/x", event.LocationRemoved{ID: "x"}, event.Meta{Time: when})
		default:
			rank := rnd.IntN(4)
			checks := []event.CheckOutcome{{ID: "a", Level: "bronze", Passed: rank > 0}, {ID: "b", Level: "silver", Passed: rank > 1, Message: fmt.Sprint(rnd.IntN(3))}}
			ev, err = event.New(types[rnd.IntN(3)], entity, event.BadgeChanged{Entity: entity, Owner: []string{"group:default/Team-A", "group:default/team-b"}[rnd.IntN(2)],
				Policy: []string{"tc", "docs", "sec"}[rnd.IntN(3)], Applies: rnd.IntN(4) > 0, Level: levels[rank], LevelRank: rank, PreviousLevel: levels[rnd.IntN(4)],
				Checks: checks, Changed: []string{"a"}}, event.Meta{Time: when})
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, at(ev, 0, pos))
	}
	return out
}

// bulkEqualsOneAtATime folds one log three ways (one event per Apply, batches
// of 37, the whole log in one Apply) and compares everything the read model
// answers.
func bulkEqualsOneAtATime(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	log := mixedLog(t, 600)
	fold := func(size int) string {
		s := open(t)
		for i := 0; i < len(log); i += size {
			if err := s.Apply(ctx, log[i:min(i+size, len(log))]); err != nil {
				t.Fatal(err)
			}
			if size == 37 {
				tallyCountsVerdicts(t, s)
			}
		}
		return Render(t, s)
	}
	one := fold(1)
	if !strings.Contains(one, "verdict ") || !strings.Contains(one, "facts ") || !strings.Contains(one, "source ") {
		t.Fatalf("the log folds to too little to compare:\n%s", one)
	}
	for _, size := range []int{37, len(log)} {
		if got := fold(size); got != one {
			t.Errorf("batches of %d fold to another read model than one event at a time:\n%s", size, firstDiff(one, got))
		}
	}
}

// Render renders everything the read model answers about the entities,
// policies and sources of mixedLog, one line per answer, for comparing two
// read models folded from one log.
func Render(t testing.TB, s Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	line := func(what string, v any, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", what, j)
	}
	pos, err := s.Positions(ctx)
	line("positions", pos, err)
	for i := range 12 {
		key := fmt.Sprintf("component:default/e%d", i)
		bs, err := s.Badges(ctx, key)
		line("verdict "+key, bs, err)
		fs, err := s.Facts(ctx, key)
		line("facts "+key, fs, err)
		cs, err := s.EntityChanges(ctx, key)
		line("changes "+key, cs, err)
		vs, err := s.VerdictsOf(ctx, []string{key})
		line("verdicts of "+key, vs, err)
		full, err := s.BadgesOf(ctx, []string{key})
		line("badges of "+key, full, err)
	}
	for _, p := range []string{"tc", "docs", "sec"} {
		rs, err := s.Results(ctx, badges.ResultQuery{Policy: p})
		line("results "+p, rs, err)
		tally, err := s.Tally(ctx, p)
		line("tally "+p, tally, err)
		var cs []badges.Change
		err = s.Changes(ctx, p, func(c badges.Change) bool { cs = append(cs, c); return true })
		line("policy changes "+p, cs, err)
	}
	for _, src := range []string{"ci", "sec"} {
		schema, err := s.FactSource(ctx, src)
		if errors.Is(err, badges.ErrNotFound) {
			schema, err = json.RawMessage(`"none"`), nil
		}
		line("source "+src, schema, err)
	}
	return b.String()
}

// firstDiff returns the first line where two renderings differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return ""
}

// UpgradeVerdict is a verdict as the first layout stored it, a copy of its
// Badge as JSON beside its change, for the stores' upgrade tests: Change is
// the event, at position 7 of partition p, and Badge the JSON the verdict
// row held.
func UpgradeVerdict(t testing.TB, p int32) (change badges.ChangeRow, badge string) {
	t.Helper()
	ev := BadgeEvent(t, p, 7, event.TypeBadgeAwarded, "component:default/up", "gold", 3, true)
	var d event.BadgeChanged
	if err := ev.Decode(&d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(badges.BadgeOf(&ev, &d))
	if err != nil {
		t.Fatal(err)
	}
	return badges.ChangeRow{Partition: p, Position: 7, Time: ev.Time.UnixNano(), EventID: ev.ID, Type: ev.Type, Policy: d.Policy,
		Entity: badges.Key(d.Entity), Data: string(ev.Data)}, string(b)
}

// CheckUpgraded checks that a store upgraded from the first layout with
// UpgradeVerdict's rows answers its verdict as before.
func CheckUpgraded(t *testing.T, s badges.Reader, change badges.ChangeRow, badge string) {
	t.Helper()
	ctx := context.Background()
	var want badges.Badge
	if err := json.Unmarshal([]byte(badge), &want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Badges(ctx, change.Entity)
	if err != nil || len(got) != 1 {
		t.Fatalf("Badges after the upgrade: %v %+v", err, got)
	}
	if g, w := mustJSON(t, got[0]), mustJSON(t, want); g != w {
		t.Fatalf("verdict after the upgrade:\n got %s\nwant %s", g, w)
	}
	rs, err := s.Results(ctx, badges.ResultQuery{Policy: change.Policy, ByLevel: true, Level: "gold"})
	if err != nil || len(rs) != 1 || mustJSON(t, rs[0]) != mustJSON(t, want) {
		t.Fatalf("Results after the upgrade: %v %+v", err, rs)
	}
	if tally, err := s.Tally(ctx, change.Policy); err != nil || len(tally) != 1 ||
		tally[0] != (badges.TallyRow{Owner: strings.ToLower(want.Owner), Level: want.Level, Count: 1}) {
		t.Fatalf("Tally after the upgrade: %v %+v", err, tally)
	}
	vs, err := s.VerdictsOf(ctx, []string{change.Entity})
	var d event.BadgeChanged
	if err := json.Unmarshal([]byte(change.Data), &d); err != nil {
		t.Fatal(err)
	}
	if err != nil || len(vs[change.Entity]) != 1 || vs[change.Entity][0].Digest != badges.DigestOf(&d) {
		t.Fatalf("VerdictsOf after the upgrade: %v %+v", err, vs)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tallyCountsVerdicts checks that each policy's Tally is the count of its
// current verdicts (Results) per owner (in lower case) and level.
func tallyCountsVerdicts(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []string{"tc", "docs", "sec"} {
		rs, err := s.Results(ctx, badges.ResultQuery{Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		want := map[[2]string]int{}
		for _, b := range rs {
			want[[2]string{strings.ToLower(b.Owner), b.Level}]++
		}
		rows, err := s.Tally(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		got := map[[2]string]int{}
		for _, r := range rows {
			if r.Count <= 0 {
				t.Fatalf("policy %s: tally row %+v", p, r)
			}
			got[[2]string{r.Owner, r.Level}] = r.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("policy %s: tally %v, the verdicts count %v", p, got, want)
		}
	}
}
