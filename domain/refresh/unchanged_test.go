package refresh_test

import (
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// TestObserveUnchangedTakesOnlyWhatObserveWouldLeave takes entities as
// unchanged: one the location holds from the file is observed (not
// removed, a second observation of it refused); one of another file or
// location is left to Observe, nothing recorded.
func TestObserveUnchangedTakesOnlyWhatObserveWouldLeave(t *testing.T) {
	t.Parallel()
	loc := refresh.Location{ID: "L1", Type: "file", Target: "/c/all.yaml", EntityRef: "location:default/root"}
	held := refresh.Known{Key: "component:default/a", UID: "u-a", Hash: "h-a", LocationID: "L1", ManagedBy: "file:/c/f.yaml"}
	gone := refresh.Known{Key: "component:default/b", UID: "u-b", Hash: "h-b", LocationID: "L1", ManagedBy: "file:/c/f.yaml"}
	elsewhere := refresh.Known{Key: "component:default/c", UID: "u-c", Hash: "h-c", LocationID: "L1", ManagedBy: "file:/c/g.yaml"}
	other := refresh.Known{Key: "component:default/d", UID: "u-d", Hash: "h-d", LocationID: "L2", ManagedBy: "file:/c/f.yaml"}
	st := &fakeState{known: map[string]refresh.Known{held.Key: held, gone.Key: gone, elsewhere.Key: elsewhere, other.Key: other}}
	d := refresh.NewDecider(loc, st, event.Meta{}, func() string { return "new" })
	cases := []struct {
		name string
		k    refresh.Known
		want bool
	}{
		{"held from the file", held, true},
		{"the same again", held, false},
		{"held from another file", elsewhere, false},
		{"held by another location", other, false},
	}
	for _, c := range cases {
		if got := d.ObserveUnchanged(c.k, "file:/c/f.yaml"); got != c.want {
			t.Fatalf("%s: ObserveUnchanged %v, want %v", c.name, got, c.want)
		}
	}
	d.Scope([]string{"file:/c/f.yaml"}, nil)
	evs, err := d.Finish()
	if err != nil {
		t.Fatal(err)
	}
	// The entity taken unchanged stays; the file's other entity, observed
	// neither way, is removed.
	if len(evs) != 1 || event.Type(evs[0].Type).Latest() != event.TypeEntityRemoved || evs[0].Subject != gone.Key {
		t.Fatalf("Finish wrote %d events, want the removal of %s alone: %+v", len(evs), gone.Key, evs)
	}
}
