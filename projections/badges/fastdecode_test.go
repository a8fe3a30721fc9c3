package badges

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// fastDecodeSeeds are badge event data: what the evaluator writes, and forms
// the scanner must leave to encoding/json (escapes, other keys, null, numbers
// it does not read, duplicates, broken JSON).
func fastDecodeSeeds() [][]byte {
	full, _ := json.Marshal(event.BadgeChanged{Entity: "component:default/a", EntityHash: "h", Owner: "group:default/t", Policy: "p", Applies: true,
		Level: "gold", PreviousLevel: "silver", LevelRank: 3, Checks: []event.CheckOutcome{{ID: "c01", Level: "bronze", Passed: true},
			{ID: "c02", Level: "gold", Message: "needs an owner", Error: "no such key: owner"}}, Changed: []string{"c02"}, Campaigns: []string{"q4"}})
	revoked, _ := json.Marshal(event.BadgeChanged{Entity: "component:default/a", Policy: "p", PreviousLevel: "gold", Checks: []event.CheckOutcome{}, Changed: []string{}})
	seeds := [][]byte{full, revoked,
		[]byte(` { "entity" : "a" , "checks" : [ { "id" : "x" , "passed" : true } ] , "levelRank" : -0 } `),
		[]byte(`{"entity":"a\u0062","policy":"p"}`),
		[]byte(`{"entity":"é","policy":"p"}`),
		[]byte(`{"Entity":"a","policy":"p"}`),
		[]byte(`{"entity":"a","extra":1}`),
		[]byte(`{"entity":"a","entity":"b"}`),
		[]byte(`{"checks":null,"changed":null}`),
		[]byte(`{"levelRank":1.0}`),
		[]byte(`{"levelRank":1e2}`),
		[]byte(`{"levelRank":01}`),
		[]byte(`{"levelRank":99999999999999999999}`),
		[]byte(`{"levelRank":"1"}`),
		[]byte(`{"applies":tru}`),
		[]byte(`{"checks":[{"id":"a","id":"b"}]}`),
		[]byte(`{"checks":[{"id":"a"},]}`),
		[]byte(`{"entity":"a"} x`),
		[]byte(`{"entity":"a"`),
		[]byte(`[]`),
		[]byte(`{}`),
		[]byte(``),
	}
	return seeds
}

// decodeBoth decodes data with the scanner's entry point and with
// json.Unmarshal and fails when they disagree in value or in error.
func decodeBoth(t *testing.T, data []byte) (fast bool) {
	var want, got event.BadgeChanged
	werr := json.Unmarshal(data, &want)
	gerr := DecodeBadgeChanged(data, &got)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%q: error %v, json.Unmarshal's %v", data, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
	}
	var d event.BadgeChanged
	return fastBadgeChanged(data, &d)
}

func TestDecodeBadgeChangedIsJSONUnmarshal(t *testing.T) {
	fast := 0
	for _, s := range fastDecodeSeeds() {
		if decodeBoth(t, s) {
			fast++
		}
	}
	// The evaluator's own data (and the spaced form) take the fast path.
	if fast != 5 {
		t.Fatalf("%d seeds decoded by the scanner, want 5 (the evaluator's two, the spaced one, nulls and {})", fast)
	}
	// Every level, rank and outcome the evaluator writes, as it writes them.
	for i := range 200 {
		d := event.BadgeChanged{Entity: fmt.Sprintf("component:default/c-%d", i), Owner: "group:default/team", Policy: "bench", Applies: i%3 != 0,
			Level: []string{"", "bronze", "gold"}[i%3], LevelRank: i % 5, Changed: []string{}}
		for j := range i % 21 {
			d.Checks = append(d.Checks, event.CheckOutcome{ID: fmt.Sprintf("c%02d", j), Level: "silver", Passed: (i+j)%2 == 0, Message: []string{"", "add a README"}[j%2]})
		}
		data, _ := json.Marshal(d)
		if !decodeBoth(t, data) {
			t.Fatalf("%s: not decoded by the scanner", data)
		}
	}
}

func FuzzDecodeBadgeChanged(f *testing.F) {
	for _, s := range fastDecodeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { decodeBoth(t, data) })
}

func BenchmarkDecodeBadgeChanged(b *testing.B) {
	d := event.BadgeChanged{Entity: "component:default/c-000001", EntityHash: "0123456789abcdef0123456789abcdef", Owner: "group:default/team-a",
		Policy: "bench-20", Applies: true, Level: "silver", LevelRank: 2, Changed: []string{}}
	for j := range 20 {
		d.Checks = append(d.Checks, event.CheckOutcome{ID: fmt.Sprintf("c%02d", j+1), Level: "gold", Passed: j%3 != 0})
		d.Changed = append(d.Changed, fmt.Sprintf("c%02d", j+1))
	}
	data, _ := json.Marshal(d)
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			var out event.BadgeChanged
			if err := DecodeBadgeChanged(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var out event.BadgeChanged
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
