package catalogstore_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// TestFoldSharedTargetsKeepTheirSpelling folds, in one batch, entities whose
// relations name the same targets spelled in different cases (the display
// ref keeps the name as written, the key lowers it), and whose kind and
// relation types repeat: the fold remembers such texts between the entities
// it builds, and each entity's entity and relation rows must still be those
// the general path (NewEntityRows) gives it alone.
func TestFoldSharedTargetsKeepTheirSpelling(t *testing.T) {
	owners := []string{"group:default/Team-A", "group:default/team-a", "group:default/TEAM-A", "group:default/Équipe", "group:default/équipe", "user:Other/bob"}
	var evs []event.Envelope
	var ents []*catalog.Entity
	for i := range 24 {
		ent, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": fmt.Sprintf("Svc-%d", i)},
			"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": owners[i%len(owners)],
				"system": owners[(i+1)%len(owners)], "dependsOn": []any{"component:default/Svc-1", "component:default/svc-1"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		body := ent.JSON()
		evs = append(evs, newEvent(t, event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
			Ref: ent.Ref().String(), UID: fmt.Sprintf("u%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body)}))
		ents = append(ents, ent)
	}
	ch := fold(t, catalogstore.State{}, nil, envelopes(t, evs...))
	if len(ch.Entities) != len(ents) {
		t.Fatalf("%d entity rows, want %d", len(ch.Entities), len(ents))
	}
	byKey := map[string]catalogstore.EntityRecord{}
	for _, e := range ch.Entities {
		byKey[e.Key] = e
	}
	relsOf := map[int64][]catalogstore.RelationRecord{}
	for _, r := range ch.Relations {
		relsOf[r.Origin] = append(relsOf[r.Origin], r)
	}
	for i, ent := range ents {
		got, ok := byKey[ent.Ref().Key()]
		if !ok {
			t.Fatalf("no entity row for %s", ent.Ref())
		}
		want, _, wrel := generalRows(t, ent, got.EID, fmt.Sprintf("u%d", i), "h")
		if got.Ref != want.Ref || got.Kind != want.Kind || got.Namespace != want.Namespace || got.Name != want.Name {
			t.Errorf("%s: entity row %q %q %q %q, want %q %q %q %q", ent.Ref(), got.Ref, got.Kind, got.Namespace, got.Name, want.Ref, want.Kind, want.Namespace, want.Name)
		}
		if !reflect.DeepEqual(relsOf[got.EID], wrel) {
			t.Errorf("%s: relation rows\n%+v\nwant\n%+v", ent.Ref(), relsOf[got.EID], wrel)
		}
	}
}

// TestFoldSearchRowsOfManyRuns folds batches of entities enough for several
// runs of the row builder, whose search rows are built in regions of one
// array and closed up after, with a run now and then outgrowing its region
// (an entity of many tags): the batch's search and relation rows must be
// each entity's general-path rows, one entity after another in key order.
func TestFoldSearchRowsOfManyRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags func(i int) int // the tags of entity i
	}{
		{name: "every run fits", tags: func(i int) int { return i % 5 }},
		{name: "a middle run outgrows its region", tags: func(i int) int {
			if i == 150 {
				return 5000
			}
			return i % 5
		}},
		{name: "the last run outgrows its region", tags: func(i int) int {
			if i == 299 {
				return 5000
			}
			return i % 3
		}},
		{name: "every run outgrows its region", tags: func(i int) int { return 40 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var evs []event.Envelope
			ents := map[string]*catalog.Entity{}
			for i := range 300 {
				tags := []any{}
				for j := range tc.tags(i) {
					tags = append(tags, fmt.Sprintf("t%d-%d", i, j))
				}
				ent, err := catalog.NewEntity(map[string]any{
					"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
					"metadata": map[string]any{"name": fmt.Sprintf("svc-%03d", i), "tags": tags},
					"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": fmt.Sprintf("team-%d", i%7)},
				})
				if err != nil {
					t.Fatal(err)
				}
				body := ent.JSON()
				evs = append(evs, newEvent(t, event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
					Ref: ent.Ref().String(), UID: fmt.Sprintf("u%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body)}))
				ents[ent.Ref().Key()] = ent
			}
			ch := fold(t, catalogstore.State{}, nil, envelopes(t, evs...))
			var wantSearch []catalogstore.SearchRecord
			var wantRels []catalogstore.RelationRecord
			for _, e := range ch.Entities {
				_, ws, wrel := generalRows(t, ents[e.Key], e.EID, e.UID, e.Hash)
				wantSearch = append(wantSearch, ws...)
				wantRels = append(wantRels, wrel...)
			}
			if got := catalogstore.ExpandItems(ch.Search); !reflect.DeepEqual(got, wantSearch) {
				t.Errorf("%d search rows (expanded %d), want %d", len(ch.Search), len(got), len(wantSearch))
			}
			if !reflect.DeepEqual(ch.Relations, wantRels) {
				t.Errorf("%d relation rows, want %d", len(ch.Relations), len(wantRels))
			}
		})
	}
}
