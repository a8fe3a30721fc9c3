package badging

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// TestMarshalBadgeChangedIsJSONMarshal compares marshalBadgeChanged with
// json.Marshal, byte for byte, over the shapes of badge data: empty and nil
// lists, omitted fields, and strings json.Marshal escapes.
func TestMarshalBadgeChangedIsJSONMarshal(t *testing.T) {
	strs := []string{"", "component:default/a", "a\"b", `back\slash`, "<html>&", "tab\there", "é", "\u2028", "\x7f", "bad \xff utf8", "line\nbreak"}
	for i := range 400 {
		s := func(k int) string { return strs[(i*7+k*3)%len(strs)] }
		d := event.BadgeChanged{Entity: s(0), EntityHash: s(1), Owner: s(2), Policy: s(3), Applies: i%2 == 0, Level: s(4), PreviousLevel: s(5), LevelRank: i%7 - 1}
		if i%5 != 0 {
			d.Checks = []event.CheckOutcome{}
			for j := range i % 4 {
				d.Checks = append(d.Checks, event.CheckOutcome{ID: fmt.Sprintf("c%d", j), Level: s(6 + j), Passed: j%2 == 1, Message: s(7 + j), Error: s(8 + j)})
			}
		}
		if i%3 != 0 {
			d.Changed = []string{}
			for j := range i % 3 {
				d.Changed = append(d.Changed, s(9+j))
			}
		}
		if i%4 == 1 {
			d.Campaigns = []string{}
		} else if i%4 == 2 {
			d.Campaigns = []string{s(10), "q4"}
		}
		want, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalBadgeChanged(&d); string(got) != string(want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func BenchmarkMarshalBadgeChanged(b *testing.B) {
	d := event.BadgeChanged{Entity: "component:default/c-000001", EntityHash: "0123456789abcdef0123456789abcdef", Owner: "group:default/team-a",
		Policy: "bench-20", Applies: true, Level: "silver", LevelRank: 2, Changed: []string{}}
	for j := range 20 {
		d.Checks = append(d.Checks, event.CheckOutcome{ID: fmt.Sprintf("c%02d", j+1), Level: "gold", Passed: j%3 != 0})
		d.Changed = append(d.Changed, fmt.Sprintf("c%02d", j+1))
	}
	b.Run("appender", func(b *testing.B) {
		for b.Loop() {
			_ = marshalBadgeChanged(&d)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(&d)
		}
	})
}

// TestNewEventIsEventNew compares newEvent with event.New, field by field but
// for the id, for data of the shapes the evaluator writes and for metas with
// and without time and source.
func TestNewEventIsEventNew(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 5, time.FixedZone("x", 3600))
	d := event.BadgeChanged{Entity: "component:default/a<b>", Policy: "tc", Checks: []event.CheckOutcome{{ID: "a", Passed: true}}, Changed: []string{"a"}}
	for _, m := range []event.Meta{{Actor: EvaluatorActor, Time: at}, {Actor: "x", Source: "/elsewhere", Commit: "abc", CorrelationID: "c-1"}} {
		for _, typ := range []event.Type{event.TypeBadgeAwarded, event.TypeCheckChanged, event.TypeFactsReported} {
			data := marshalBadgeChanged(&d)
			want, err := event.New(typ, "component:default/a", data, m)
			if err != nil {
				t.Fatal(err)
			}
			got := newEvent(typ, "component:default/a", data, m)
			if got.ID == "" || got.ID == want.ID {
				t.Fatalf("%s: id %q beside event.New's %q: want a new one", typ, got.ID, want.ID)
			}
			if m.Time.IsZero() {
				if got.Time.Sub(want.Time).Abs() > time.Minute {
					t.Fatalf("%s: time %v, event.New's %v", typ, got.Time, want.Time)
				}
				got.Time = want.Time
			}
			got.ID = want.ID
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n got %+v\nwant %+v", typ, got, want)
			}
		}
	}
}

// TestMarshalFactsReportedIsJSONMarshal compares marshalFactsReported with
// json.Marshal, byte for byte.
func TestMarshalFactsReportedIsJSONMarshal(t *testing.T) {
	times := []time.Time{time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.FixedZone("x", -7200)),
		{}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	facts := []json.RawMessage{nil, json.RawMessage(`{}`), json.RawMessage(`{"a":[1,"<x>"],"b":{"c":null}}`), json.RawMessage(`{"a": "b\u2028"}`),
		json.RawMessage(`{"descriptorComplete":true,"missingFields":[],"x":"\u003c"}`)}
	strs := []string{"", "component:default/a", "a\"b<&>", "é\u2028"}
	for i := range 80 {
		d := event.FactsReported{Entity: strs[i%4], Source: strs[(i/4)%4], Facts: facts[i%5], ObservedAt: times[(i/5)%4]}
		want, wantErr := json.Marshal(&d)
		got, err := marshalFactsReported(&d)
		if (err != nil) != (wantErr != nil) || string(got) != string(want) {
			t.Fatalf("case %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, wantErr)
		}
	}
}

// TestMarshalCatalogFactsIsJSONMarshal compares marshalCatalogFacts with
// json.Marshal of CatalogFacts' map, byte for byte.
func TestMarshalCatalogFactsIsJSONMarshal(t *testing.T) {
	lists := [][]any{{}, {"metadata.description"}, {"spec.type", "spec.owner"}, {"component:default/<a>", "api:x/é\"b"}}
	for _, missing := range lists {
		for _, deps := range lists {
			want, err := json.Marshal(catalogFactsMap(missing, deps))
			if err != nil {
				t.Fatal(err)
			}
			if got := marshalCatalogFacts(missing, deps); string(got) != string(want) {
				t.Fatalf("missing %v, deps %v:\n got %s\nwant %s", missing, deps, got, want)
			}
		}
	}
}
