package refresh_test

import (
	"fmt"
	"iter"
	"runtime"
	"slices"
	"testing"
	"unsafe"
	"weak"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

type fakeState struct {
	known map[string]refresh.Known
	errs  map[string][]event.ProcessingError
}

func (f *fakeState) Lookup(key string) (refresh.Known, bool) { k, ok := f.known[key]; return k, ok }
func (f *fakeState) Owned(loc string, except map[string]bool) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for _, k := range f.known {
			if k.LocationID == loc && !except[k.ManagedBy] && !yield(k) {
				return
			}
		}
	}
}
func (f *fakeState) Errors(loc string) []event.ProcessingError { return f.errs[loc] }

func entity(t *testing.T, name, owner string) *catalog.Entity {
	t.Helper()
	e, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": owner},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var loc = refresh.Location{ID: "L1", Type: "file", Target: "/c/catalog.yaml", EntityRef: "location:default/generated-x"}

// apply folds decided events into the fake state, as a projection would.
func apply(t *testing.T, st *fakeState, evs []event.Envelope) {
	t.Helper()
	for _, ev := range evs {
		switch event.Type(ev.Type) {
		case event.TypeEntityUpserted:
			var d event.EntityUpserted
			if err := ev.Decode(&d); err != nil {
				t.Fatal(err)
			}
			st.known[ev.Subject] = refresh.Known{Key: ev.Subject, UID: d.UID, Hash: d.Hash, LocationID: d.LocationID, ManagedBy: d.ManagedBy}
		case event.TypeEntityRemoved:
			delete(st.known, ev.Subject)
		case event.TypeProcessingErrorRecorded:
			var d event.ProcessingErrorRecorded
			if err := ev.Decode(&d); err != nil {
				t.Fatal(err)
			}
			st.errs[d.LocationID] = d.Errors
		case event.TypeProcessingErrorCleared:
			delete(st.errs, loc.ID)
		}
	}
}

func types(evs []event.Envelope) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+" "+e.Subject)
	}
	return out
}

func TestDecide(t *testing.T) {
	t.Parallel()
	st := &fakeState{known: map[string]refresh.Known{}, errs: map[string][]event.ProcessingError{}}
	n := 0
	uid := func() string { n++; return fmt.Sprintf("uid-%d", n) }
	file := "file:/c/catalog.yaml"
	obs := func(ents ...*catalog.Entity) observation {
		o := observation{Location: loc}
		for _, e := range ents {
			o.Entities = append(o.Entities, refresh.Observed{Entity: e, ManagedBy: file})
		}
		return o
	}
	steps := []struct {
		name string
		obs  observation
		want []string
	}{
		{"first read upserts both", obs(entity(t, "a", "x"), entity(t, "b", "x")),
			[]string{"backlot.entity.upserted.v1 component:default/a", "backlot.entity.upserted.v1 component:default/b"}},
		{"unchanged emits nothing", obs(entity(t, "a", "x"), entity(t, "b", "x")), nil},
		{"changed owner upserts one, vanished one is removed", obs(entity(t, "a", "y")),
			[]string{"backlot.entity.upserted.v1 component:default/a", "backlot.entity.removed.v1 component:default/b"}},
		{"broken file keeps its entities and records the error", observation{Location: loc,
			Errors:    []event.ProcessingError{{File: file, Document: 0, Name: "InputError", Message: "bad"}},
			KeepFiles: map[string]bool{file: true}},
			[]string{"backlot.processing.error.recorded.v1 location:default/generated-x"}},
		{"fixed file clears the error", obs(entity(t, "a", "y")),
			[]string{"backlot.processing.error.cleared.v1 location:default/generated-x"}},
	}
	for _, s := range steps {
		evs, err := decide(s.obs, st, event.Meta{}, uid)
		if err != nil {
			t.Fatal(err)
		}
		if got := types(evs); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("%s:\n got  %v\n want %v", s.name, got, s.want)
		}
		for _, e := range evs {
			if err := e.Validate(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if e.Actor != "location:L1" {
				t.Fatalf("%s: actor %q", s.name, e.Actor)
			}
		}
		apply(t, st, evs)
	}
	if st.known["component:default/a"].UID != "uid-1" {
		t.Fatalf("uid changed on update: %+v", st.known["component:default/a"])
	}
}

func TestDecideConflictKeepsFirstLocation(t *testing.T) {
	t.Parallel()
	st := &fakeState{known: map[string]refresh.Known{
		"component:default/a": {Key: "component:default/a", UID: "u", Hash: "h", LocationID: "OTHER", ManagedBy: "file:/other.yaml"},
	}, errs: map[string][]event.ProcessingError{}}
	evs, err := decide(observation{Location: loc, Entities: []refresh.Observed{{Entity: entity(t, "a", "x"), ManagedBy: "file:/c/catalog.yaml"}}},
		st, event.Meta{}, func() string { return "new" })
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != string(event.TypeProcessingErrorRecorded) {
		t.Fatalf("want only a processing error, got %v", types(evs))
	}
	var d event.ProcessingErrorRecorded
	if err := evs[0].Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.Errors) != 1 || d.Errors[0].Name != "ConflictError" || d.Errors[0].Entity != "component:default/a" {
		t.Fatalf("unexpected errors %+v", d.Errors)
	}
}

// observation is everything one refresh of a location saw, handed to decide
// at once.
type observation struct {
	// Location is the refreshed location.
	Location refresh.Location
	// Entities are the valid entities, in file and document order.
	Entities []refresh.Observed
	// Errors are the problems found while reading, in file and document order.
	Errors []event.ProcessingError
	// KeepFiles lists files (type:target) that could not be read whole: the
	// entities they yielded before are kept rather than removed.
	KeepFiles map[string]bool
	// KeepEntities lists entity keys whose document is broken now: their last good
	// version is kept.
	KeepEntities map[string]bool
}

// decide feeds a Decider everything obs saw and returns the events that bring
// the catalog from state to it, in order: upserts, removals, then the
// processing-error record. The ingester feeds a Decider file by file instead.
func decide(obs observation, state refresh.State, meta event.Meta, newUID func() string) ([]event.Envelope, error) {
	d := refresh.NewDecider(obs.Location, state, meta, newUID)
	for _, pe := range obs.Errors {
		d.Fail(pe)
	}
	for f := range obs.KeepFiles {
		d.KeepFile(f)
	}
	for k := range obs.KeepEntities {
		d.KeepEntity(k)
	}
	var out []event.Envelope
	for _, o := range obs.Entities {
		evs, err := d.Observe(o)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	rest, err := d.Finish()
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

// countingState is a location of n owned entities that Owned makes one by
// one, as a store reads them, in reverse key order. It keeps a weak pointer
// to each key it yields, so that, once they are all yielded, it can count
// how many the decision still holds.
type countingState struct {
	n int
	// observed reports whether the refresh observed entity i.
	observed func(i int) bool
	keys     []weak.Pointer[byte]
	// heldAtEnd is how many yielded keys were still reachable after the
	// last was yielded.
	heldAtEnd int
}

func (c *countingState) Lookup(string) (refresh.Known, bool)   { return refresh.Known{}, false }
func (c *countingState) Errors(string) []event.ProcessingError { return nil }

func (c *countingState) Owned(loc string, except map[string]bool) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for i := c.n - 1; i >= 0; i-- {
			// A key of its own allocation (longer than the runtime's tiny
			// blocks), as a row read from a store is.
			key := fmt.Sprintf("component:default/entity-with-a-long-name-%06d", i)
			c.keys = append(c.keys, weak.Make(unsafe.StringData(key)))
			if !yield(refresh.Known{Key: key, UID: fmt.Sprintf("uid-%d", i), Hash: "h", LocationID: loc, ManagedBy: "file:/c/catalog.yaml"}) {
				return
			}
		}
		runtime.GC()
		for _, p := range c.keys {
			if p.Value() != nil {
				c.heldAtEnd++
			}
		}
	}
}

// TestFinishHoldsOnlyTheEntitiesItRemoves: Finish reads what a location
// owns as the store yields it and keeps only the entities it removes, so a
// refresh of a location of many entities, nearly all of them observed
// again, never holds them all. The old decision, which took them all as one
// slice and sorted it, held all 20,000 at this point. The removals still
// come in key order, whatever order the store yields.
func TestFinishHoldsOnlyTheEntitiesItRemoves(t *testing.T) {
	// Not parallel: the count of reachable keys needs a collection that
	// other tests' allocations do not race.
	const n = 20_000
	gone := map[int]bool{7: true, 4_000: true, 19_999: true}
	st := &countingState{n: n, observed: func(i int) bool { return !gone[i] }}
	d := refresh.NewDecider(loc, st, event.Meta{}, func() string { return "new" })
	for i := range n {
		if !st.observed(i) {
			continue
		}
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": fmt.Sprintf("entity-with-a-long-name-%06d", i)},
			"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Observe(refresh.Observed{Entity: e, ManagedBy: "file:/c/catalog.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := d.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.keys) != n {
		t.Fatalf("the state yielded %d entities, want %d", len(st.keys), n)
	}
	if st.heldAtEnd > len(gone) {
		t.Fatalf("after the last owned entity, the decision held %d of the %d it was yielded; want at most the %d it removes", st.heldAtEnd, n, len(gone))
	}
	want := []string{
		"backlot.entity.removed.v1 component:default/entity-with-a-long-name-000007",
		"backlot.entity.removed.v1 component:default/entity-with-a-long-name-004000",
		"backlot.entity.removed.v1 component:default/entity-with-a-long-name-019999",
	}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("Finish decided\n %v\nwant\n %v", got, want)
	}
}

// TestDecideAnEntityReadTwiceIsUpsertedOnce: the keys seen in a refresh are
// kept as hashes; an entity met a second time, in another file, is still
// refused as a duplicate naming the second file, and a third entity is not.
func TestDecideAnEntityReadTwiceIsUpsertedOnce(t *testing.T) {
	t.Parallel()
	st := &fakeState{known: map[string]refresh.Known{}, errs: map[string][]event.ProcessingError{}}
	evs, err := decide(observation{Location: loc, Entities: []refresh.Observed{
		{Entity: entity(t, "a", "x"), ManagedBy: "file:/c/one.yaml"},
		{Entity: entity(t, "b", "x"), ManagedBy: "file:/c/one.yaml"},
		{Entity: entity(t, "a", "y"), ManagedBy: "file:/c/two.yaml"},
	}}, st, event.Meta{}, func() string { return "new" })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"backlot.entity.upserted.v1 component:default/a", "backlot.entity.upserted.v1 component:default/b",
		"backlot.processing.error.recorded.v1 location:default/generated-x"}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("decided %v, want %v", got, want)
	}
	var d event.ProcessingErrorRecorded
	if err := evs[2].Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.Errors) != 1 || d.Errors[0].File != "file:/c/two.yaml" || d.Errors[0].Entity != "component:default/a" {
		t.Fatalf("errors %+v, want one conflict of component:default/a in two.yaml", d.Errors)
	}
}
