package eventschema_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventschema"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// renderState folds a location, a group, a system and a component that relates
// to both into a real catalog read model, records a processing error on the
// component, and returns each entity as catalogstore.EntityView.MarshalJSON
// renders it (the state topic's value), the component first.
func renderState(t *testing.T) [][]byte {
	t.Helper()
	store, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const target = "/srv/catalog/all.yaml"
	locRef := catalog.GeneratedLocationRef("file", target)
	locID := event.NewID()
	var evs []event.Envelope
	add := func(typ event.Type, subject string, data any) {
		ev, err := event.New(typ, subject, data, event.Meta{Actor: "location:" + locID})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(len(evs)) + 1
		evs = append(evs, ev)
	}
	add(event.TypeLocationRegistered, locRef.Key(), event.LocationRegistered{ID: locID, Type: "file", Target: target, EntityRef: locRef.String()})
	keys := []string{}
	for _, body := range []map[string]any{
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": "Checkout", "title": "Checkout", "tags": []any{"go"}, "links": []any{map[string]any{"url": "https://example.com", "title": "Home"}}},
			"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a", "system": "shop"}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "team-a"}, "spec": map[string]any{"type": "team", "children": []any{}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": map[string]any{"name": "shop"}, "spec": map[string]any{"owner": "team-a"}},
	} {
		ent, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		ent = ent.WithAnnotations(map[string]string{
			catalog.AnnotationManagedByLocation:       "file:" + target,
			catalog.AnnotationManagedByOriginLocation: "file:" + target,
		})
		raw := ent.JSON()
		add(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{Ref: ent.Ref().String(), UID: event.NewID(), Hash: catalog.HashJSON(raw),
			Entity: raw, LocationID: locID, ManagedBy: "file:" + target, OriginLocation: "file:" + target})
		keys = append(keys, ent.Ref().Key())
	}
	add(event.TypeProcessingErrorRecorded, locRef.Key(), event.ProcessingErrorRecorded{LocationID: locID, Errors: []event.ProcessingError{
		{File: target, Document: 0, Entity: "component:default/checkout", Field: "spec.lifecycle", Name: "InputError", Message: "spec.lifecycle is odd"},
	}})
	if err := store.Apply(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	views, err := store.ByKeys(context.Background(), append(keys, locRef.Key()))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, v := range views {
		if v == nil {
			t.Fatalf("%s is not in the read model", keys[i])
		}
		raw, err := v.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	if !strings.Contains(string(out[0]), `"status":{"items":[`) || !strings.Contains(string(out[0]), `"relations":[{`) {
		t.Fatalf("the component's state has no relations or no status: %s", out[0])
	}
	return out
}

func TestEntityStatesFromTheReadModelValidate(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	for _, raw := range renderState(t) {
		if err := v.ValidateState(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
		var doc any
		json.Unmarshal(raw, &doc)
		if extra := undeclared(t, eventschema.EntityStateSchema, nil, doc, ""); len(extra) > 0 {
			t.Errorf("the state has fields its schema does not declare: %v", extra)
		}
	}
	for _, raw := range []string{"", "null"} {
		if err := v.ValidateState([]byte(raw)); err == nil {
			t.Errorf("ValidateState(%q) accepts a tombstone", raw)
		}
	}
}
