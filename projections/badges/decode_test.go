package badges

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// TestDecodeOnEveryCoreAsOneAtATime: a batch large enough to be split among
// cores decodes to the ops of one event at a time, in log order, and fails on
// the first bad event in log order.
func TestDecodeOnEveryCoreAsOneAtATime(t *testing.T) {
	t.Parallel()
	var evs []event.Envelope
	for i := range 3 * decodeChunk {
		key := fmt.Sprintf("component:default/e%d", i)
		var ev event.Envelope
		var err error
		if i%3 == 0 {
			ev, err = event.New(event.TypeFactsReported, key, event.FactsReported{Entity: key, Source: "ci", Facts: json.RawMessage(`{"n":1}`)}, event.Meta{})
		} else {
			ev, err = event.New(event.TypeBadgeAwarded, key, event.BadgeChanged{Entity: key, Policy: "p", Applies: true, Level: "gold", LevelRank: i % 4}, event.Meta{})
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(i + 1)
		evs = append(evs, ev)
	}
	applied := event.Positions{0: 5}
	want, err := decodeRange(evs, applied)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(evs, applied)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs)-5 || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %d ops on every core, %d one at a time, or in another order", len(got), len(want))
	}
	bad := slices.Clone(evs)
	for _, i := range []int{decodeChunk + 10, 2*decodeChunk + 10} {
		bad[i].Data = json.RawMessage(`{"entity": 7}`)
	}
	if _, err := Decode(bad, applied); err == nil || !strings.Contains(err.Error(), bad[decodeChunk+10].ID) {
		t.Fatalf("error %v, want the one of event %s", err, bad[decodeChunk+10].ID)
	}
}
