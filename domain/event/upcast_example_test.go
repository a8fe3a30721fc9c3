package event_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
)

// A type's v1 called the field "name"; v2 calls it "title". The upcaster
// turns v1 data into v2 data, and a reader written for v2 reads both.
func ExampleUpcasters() {
	const v1, v2 event.Type = "backlot.example.renamed.v1", "backlot.example.renamed.v2"
	up := event.NewUpcasters()
	err := up.Register(v1, v2, func(data json.RawMessage) (json.RawMessage, error) {
		var old struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(data, &old); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"title": strings.ToUpper(old.Name[:1]) + old.Name[1:]})
	})
	if err != nil {
		panic(err)
	}
	at := event.Meta{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	old, _ := event.New(v1, "component:default/a", map[string]string{"name": "checkout"}, at)
	cur, _ := event.New(v2, "component:default/b", map[string]string{"title": "Payments"}, at)
	for _, ev := range []event.Envelope{old, cur} {
		var d struct {
			Title string `json:"title"`
		}
		if up.Latest(event.Type(ev.Type)) == v2 {
			if err := up.Decode(&ev, &d); err != nil {
				panic(err)
			}
		}
		fmt.Printf("%s stored as %s, read as %s: %q\n", ev.Subject, ev.Type, up.Latest(event.Type(ev.Type)), d.Title)
	}
	// Output:
	// component:default/a stored as backlot.example.renamed.v1, read as backlot.example.renamed.v2: "Checkout"
	// component:default/b stored as backlot.example.renamed.v2, read as backlot.example.renamed.v2: "Payments"
}
