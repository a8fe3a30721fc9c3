package badging_test

import (
	"reflect"
	"testing"

	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

func TestCatalogFacts(t *testing.T) {
	t.Parallel()
	deprecated := func(key string) bool { return key == "component:default/old" || key == "api:default/v1" }
	complete := map[string]any{"kind": "Component", "metadata": map[string]any{"name": "a", "description": "A"},
		"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a", "system": "shop"}}
	for _, c := range []struct {
		name string
		body map[string]any
		rels []catalogstore.Relation
		want map[string]any
	}{
		{"complete, no dependencies", complete, nil, map[string]any{
			"descriptorComplete": true, "missingFields": []any{}, "deprecatedRefs": []any{}, "dependsOnDeprecated": false}},
		{"missing fields", map[string]any{"kind": "Component", "metadata": map[string]any{"name": "a", "description": " "}, "spec": map[string]any{"type": "service", "owner": "x"}}, nil,
			map[string]any{"descriptorComplete": false, "missingFields": []any{"metadata.description", "spec.lifecycle", "spec.system"}, "deprecatedRefs": []any{}, "dependsOnDeprecated": false}},
		{"deprecated dependencies", complete, []catalogstore.Relation{
			{Type: "dependsOn", TargetRef: "component:default/old"}, {Type: "dependsOn", TargetRef: "component:default/new"},
			{Type: "consumesApi", TargetRef: "api:default/v1"}, {Type: "ownedBy", TargetRef: "component:default/old"}},
			map[string]any{"descriptorComplete": true, "missingFields": []any{}, "deprecatedRefs": []any{"component:default/old", "api:default/v1"}, "dependsOnDeprecated": true}},
		{"a kind with no spec fields asks for a description", map[string]any{"kind": "User", "metadata": map[string]any{"name": "u"}}, nil,
			map[string]any{"descriptorComplete": false, "missingFields": []any{"metadata.description"}, "deprecatedRefs": []any{}, "dependsOnDeprecated": false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := badging.CatalogFacts(c.body, c.rels, deprecated); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v\nwant %#v", got, c.want)
			}
		})
	}
}
