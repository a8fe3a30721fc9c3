package badging

import (
	"encoding/json"
	"fmt"
	"testing"

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
