package catalogstore_test

import (
	"encoding/json"
	"slices"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// eidOf numbers entities by position, as the SQLite adapter does.
func eidOf(pos int64, _ int32) int64 { return pos }

// envelopes puts the events at positions 1, 2, … of partition 0.
func envelopes(t *testing.T, evs ...event.Envelope) []event.Envelope {
	t.Helper()
	for i := range evs {
		evs[i].Position = int64(i) + 1
	}
	return evs
}

func newEvent(t *testing.T, typ event.Type, subject string, data any) event.Envelope {
	t.Helper()
	ev, err := event.New(typ, subject, data, event.Meta{Actor: "user:default/test"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func upsert(t *testing.T, name, uid, description string) event.Envelope {
	t.Helper()
	ent, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name, "description": description, "tags": []any{"go", "go"}},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := ent.JSON()
	return newEvent(t, event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
		Ref: ent.Ref().String(), UID: uid, Hash: catalog.HashJSON(body), Entity: json.RawMessage(body), LocationID: "L1", ManagedBy: "file:/c.yaml",
	})
}

func fold(t *testing.T, st catalogstore.State, applied event.Positions, evs []event.Envelope) *catalogstore.Changes {
	t.Helper()
	b, err := catalogstore.DecodeBatch(evs, applied)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.Fold(st, eidOf)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestFoldIsPure folds batches over states held in memory: no database, only
// the rows the batch would delete and write.
func TestFoldIsPure(t *testing.T) {
	t.Parallel()
	a1 := upsert(t, "a", "uid-a", "first")
	a2 := upsert(t, "a", "uid-a", "second")
	var a1Hash string
	{
		var d event.EntityUpserted
		if err := a1.Decode(&d); err != nil {
			t.Fatal(err)
		}
		a1Hash = d.Hash
	}

	t.Run("a new entity is written once with its last version, search and relation rows", func(t *testing.T) {
		ch := fold(t, catalogstore.State{}, nil, envelopes(t, a1, a2))
		if len(ch.DeleteEIDs) != 0 || len(ch.Entities) != 1 {
			t.Fatalf("deletes %v, entities %d; want none and 1", ch.DeleteEIDs, len(ch.Entities))
		}
		e := ch.Entities[0]
		if e.Key != "component:default/a" || e.EID != 1 || e.UpdatedPos != 2 || !json.Valid(e.Body) {
			t.Fatalf("entity %s eid %d updated at %d; want component:default/a, eid 1 (its creation), updated at 2", e.Key, e.EID, e.UpdatedPos)
		}
		var tags int
		for _, r := range ch.Search {
			if r.Key == "metadata.tags" {
				tags++
			}
		}
		if tags != 1 {
			t.Errorf("%d search rows of metadata.tags, want 1: a value listed twice is one row", tags)
		}
		if !slices.ContainsFunc(ch.Relations, func(r catalogstore.RelationRecord) bool {
			return r.Type == "ownedBy" && r.Target == "group:default/team-a" && r.Origin == 1
		}) {
			t.Errorf("no ownedBy relation in %v", ch.Relations)
		}
	})

	t.Run("the body an entity already has changes nothing", func(t *testing.T) {
		st := catalogstore.State{Entities: map[string]catalogstore.StoredEntity{"component:default/a": {EID: 9, Hash: a1Hash, UID: "uid-a"}}}
		ch := fold(t, st, nil, envelopes(t, a1))
		if len(ch.DeleteEIDs)+len(ch.Entities)+len(ch.Search) != 0 {
			t.Fatalf("changes %+v, want none", ch)
		}
	})

	t.Run("an edit replaces the rows and keeps the eid", func(t *testing.T) {
		st := catalogstore.State{Entities: map[string]catalogstore.StoredEntity{"component:default/a": {EID: 9, Hash: a1Hash, UID: "uid-a"}}}
		ch := fold(t, st, nil, envelopes(t, a2))
		if !slices.Equal(ch.DeleteEIDs, []int64{9}) || len(ch.Entities) != 1 || ch.Entities[0].EID != 9 {
			t.Fatalf("deletes %v, entities %+v; want eid 9 replaced by eid 9", ch.DeleteEIDs, ch.Entities)
		}
	})

	t.Run("a stale removal is ignored, a current one deletes", func(t *testing.T) {
		st := catalogstore.State{Entities: map[string]catalogstore.StoredEntity{"component:default/a": {EID: 9, Hash: a1Hash, UID: "uid-a"}}}
		stale := newEvent(t, event.TypeEntityRemoved, "component:default/a", event.EntityRemoved{Ref: "component:default/a", UID: "uid-old"})
		if ch := fold(t, st, nil, envelopes(t, stale)); len(ch.DeleteEIDs) != 0 {
			t.Fatalf("a removal of another uid deleted %v", ch.DeleteEIDs)
		}
		cur := newEvent(t, event.TypeEntityRemoved, "component:default/a", event.EntityRemoved{Ref: "component:default/a", UID: "uid-a"})
		if ch := fold(t, st, nil, envelopes(t, cur)); !slices.Equal(ch.DeleteEIDs, []int64{9}) || len(ch.Entities) != 0 {
			t.Fatalf("deletes %v, entities %d; want eid 9 deleted and nothing written", ch.DeleteEIDs, len(ch.Entities))
		}
	})

	t.Run("events at or below the applied position are skipped", func(t *testing.T) {
		b, err := catalogstore.DecodeBatch(envelopes(t, a1, a2), event.Positions{0: 2})
		if err != nil || b.Len() != 0 || len(b.Last) != 0 {
			t.Fatalf("len %d, last %v (%v); want an empty batch", b.Len(), b.Last, err)
		}
	})

	t.Run("a location brings its entity; registering it again keeps the first", func(t *testing.T) {
		reg := newEvent(t, event.TypeLocationRegistered, "location:default/l", event.LocationRegistered{ID: "L9", Type: "file", Target: "/c.yaml"})
		again := newEvent(t, event.TypeLocationRegistered, "location:default/l", event.LocationRegistered{ID: "L9", Type: "file", Target: "/other.yaml"})
		errs := newEvent(t, event.TypeProcessingErrorRecorded, "location:default/l", event.ProcessingErrorRecorded{LocationID: "L9",
			Errors: []event.ProcessingError{{File: "file:/c.yaml", Document: 0, Entity: "component:default/a", Name: "InputError", Message: "bad"}}})
		ch := fold(t, catalogstore.State{}, nil, envelopes(t, reg, again, errs))
		if len(ch.Locations) != 1 || ch.Locations[0].Target != "/c.yaml" || ch.Locations[0].Created != 1 {
			t.Fatalf("locations %+v, want L9 of /c.yaml created at 1", ch.Locations)
		}
		if len(ch.Entities) != 1 || ch.Entities[0].Kind != "location" || ch.Entities[0].UID != "L9" {
			t.Fatalf("entities %+v, want the generated Location entity with uid L9", ch.Entities)
		}
		if len(ch.LocationErrors) != 1 || ch.LocationErrors[0].EntityKey != "component:default/a" {
			t.Fatalf("errors %+v, want one about component:default/a", ch.LocationErrors)
		}
	})
}

func TestSortSearchOrdersByKeyValueAndEID(t *testing.T) {
	t.Parallel()
	rows := []catalogstore.SearchRecord{
		{EID: 2, Key: "spec.type", Value: "service"}, {EID: 1, Key: "spec.type", Value: "service"},
		{EID: 1, Key: "kind", Value: "component"}, {EID: 3, Key: "spec.type", Value: "library"},
		{EID: 9, Key: "a", Value: ""}, {EID: 4, Key: "kind", Value: "api"},
	}
	ch := &catalogstore.Changes{Search: rows}
	ch.SortRows(true, false)
	want := []catalogstore.SearchRecord{
		{EID: 9, Key: "a", Value: ""}, {EID: 4, Key: "kind", Value: "api"}, {EID: 1, Key: "kind", Value: "component"},
		{EID: 3, Key: "spec.type", Value: "library"}, {EID: 1, Key: "spec.type", Value: "service"}, {EID: 2, Key: "spec.type", Value: "service"},
	}
	if !slices.Equal(ch.Search, want) {
		t.Fatalf("sorted rows %v, want %v", ch.Search, want)
	}
}
