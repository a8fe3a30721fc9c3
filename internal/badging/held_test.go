package badging

import (
	"reflect"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
)

// TestHeldDraftsComeBackAsAdded holds the drafts of every shape a rating
// makes, over two pages, and reads them back: the same keys, in order, and
// drafts equal to those added (nil and empty lists kept apart, as the
// events' JSON tells them apart), whether held compact or as they are.
func TestHeldDraftsComeBackAsAdded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 8, 3, 0, 0, 123, time.UTC)
	checks := func(passed ...bool) []event.CheckOutcome {
		out := make([]event.CheckOutcome, len(passed))
		for i, p := range passed {
			out[i] = event.CheckOutcome{ID: string(rune('a' + i)), Level: "bronze", Passed: p, Message: "m"}
		}
		return out
	}
	first := func(key string, cs []event.CheckOutcome) draft {
		d := &event.BadgeChanged{Entity: key, EntityHash: "h-" + key, Owner: "group:default/team-a", Policy: "p", Applies: true, Level: "bronze",
			LevelRank: 1, Checks: cs, Changed: []string{}}
		return draft{d: d, t: changeOf(d, nil)}
	}
	facts := func(ref string, doc string) draft {
		return draft{f: &event.FactsReported{Entity: ref, Source: "catalog", Facts: []byte(doc), ObservedAt: now}}
	}
	withError := checks(true, false)
	withError[1].Error = "boom"
	changed := first("component:default/d", checks(true, true, false))
	changed.d.Changed, changed.t = []string{"b", "c"}, event.TypeCheckChanged
	campaigns := first("component:default/e", checks(true))
	campaigns.d.Campaigns = []string{"q1"}
	ready := event.Envelope{ID: "x", Type: string(event.TypeFactsReported), Subject: "component:default/f"}
	pages := [][]struct {
		key string
		ds  []draft
	}{
		{
			{"component:default/a", []draft{facts("Component:default/A", `{"x":1}`), first("component:default/a", checks(true, false, true))}},
			{"component:default/b", []draft{facts("Component:default/b", `{"x":1}`), first("component:default/b", checks(true, false, true))}},
			{"component:default/c", []draft{{d: &event.BadgeChanged{Entity: "component:default/c", Policy: "p", PreviousLevel: "gold",
				Checks: []event.CheckOutcome{}, Changed: []string{}}, t: event.TypeBadgeRevoked}}},
		},
		{
			{"component:default/d", []draft{changed}},
			{"component:default/e", []draft{campaigns}},
			{"component:default/f", []draft{{ev: &ready}}},
			{"component:default/g", []draft{first("component:default/g", withError)}},
			{"component:default/h", []draft{first("component:default/h", nil), facts("Component:default/h", `{"y":2}`)}},
			{"component:default/i", []draft{{f: &event.FactsReported{Entity: "Component:default/i", Source: "repo", Facts: []byte(`{}`), ObservedAt: now.Add(time.Second)}}}},
			{"component:default/j", []draft{{d: &event.BadgeChanged{Entity: "component:default/j", Policy: "p"}, cur: &badges.Verdict{Policy: "p"}}}},
		},
	}
	h := newHeld(now)
	for _, p := range pages {
		h.startPage()
		for _, e := range p {
			h.add(e.key, e.ds)
		}
	}
	if len(h.odd) != 5 {
		t.Errorf("%d entities held as they are, want 5 (campaigns, a ready event, an error, another time, a draft unresolved)", len(h.odd))
	}
	if len(h.outcomes) != 4 {
		t.Errorf("%d outcome lists held, want 4 (a and b share theirs; c, d and h have their own)", len(h.outcomes))
	}
	for i, p := range pages {
		rd := heldReader{h: h, b: h.pages[i]}
		for _, e := range p {
			key, ds, ok := rd.next()
			if !ok {
				t.Fatalf("page %d ends before %s: %v", i, e.key, rd.err)
			}
			if key != e.key || !reflect.DeepEqual(ds, e.ds) {
				t.Errorf("page %d: got %s %+v, want %s %+v", i, key, ds, e.key, e.ds)
			}
		}
		if _, _, ok := rd.next(); ok || rd.err != nil {
			t.Errorf("page %d goes on after its entities (or fails: %v)", i, rd.err)
		}
	}
}

// TestHeldSortsByKeyAndKeepsAnEntitysLastRecord holds entities out of key
// order over two pages, one of them twice (read again in creation order
// after it was removed and created again): sorted, the index reads them in
// the order of their keys, that one once, with the drafts held last.
func TestHeldSortsByKeyAndKeepsAnEntitysLastRecord(t *testing.T) {
	t.Parallel()
	h := newHeld(time.Time{})
	revoke := func(key, level string) []draft {
		return []draft{{d: &event.BadgeChanged{Entity: key, Policy: "p", PreviousLevel: level, Checks: []event.CheckOutcome{}, Changed: []string{}},
			t: event.TypeBadgeRevoked}}
	}
	h.startPage()
	h.add("component:default/c", revoke("component:default/c", "gold"))
	h.add("component:default/a", revoke("component:default/a", "gold"))
	h.startPage()
	h.add("component:default/b", revoke("component:default/b", "gold"))
	h.add("component:default/a", revoke("component:default/a", "silver"))
	h.sortByKey()
	var keys, levels []string
	for _, ref := range h.index {
		rd := h.at(ref)
		key, ds, ok := rd.next()
		if !ok {
			t.Fatalf("no record at %v: %v", ref, rd.err)
		}
		keys, levels = append(keys, key), append(levels, ds[0].d.PreviousLevel)
	}
	if want := []string{"component:default/a", "component:default/b", "component:default/c"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if want := []string{"silver", "gold", "gold"}; !reflect.DeepEqual(levels, want) {
		t.Errorf("previous levels %v, want %v (a's last record)", levels, want)
	}
}
