package catalog_test

import (
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// TestDeclaredPairsEachRelationWithItsReverse checks that Declared lists each
// relation the spec declares once, in the spec's order, with its reverse type,
// and that Relations holds exactly those relations and their reverses.
func TestDeclaredPairsEachRelationWithItsReverse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"component", map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": "a"},
			"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "Team-A", "system": "sys",
				"dependsOn": []any{"resource:db", "component:b", "resource:db"}, "providesApis": []any{"api-x"}}},
			`[ownedBy/ownerOf group:default/Team-A partOf/hasPart system:default/sys providesApi/apiProvidedBy api:default/api-x dependsOn/dependencyOf resource:default/db dependsOn/dependencyOf component:default/b]`},
		{"resource depending on itself", map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Resource",
			"metadata": map[string]any{"name": "db"},
			"spec":     map[string]any{"type": "database", "owner": "group:ops", "dependsOn": []any{"resource:db"}, "dependencyOf": []any{"resource:db"}}},
			`[ownedBy/ownerOf group:default/ops dependsOn/dependencyOf resource:default/db dependencyOf/dependsOn resource:default/db]`},
		{"no spec", map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": map[string]any{"name": "l"},
			"spec": map[string]any{"type": "url", "target": "https://example.com/a.yaml"}}, `[]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ent, err := catalog.NewEntity(c.body)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			both := map[string]bool{}
			self := ent.Ref().Key()
			for _, d := range ent.Declared() {
				got = append(got, d.Type+"/"+d.Reverse+" "+d.Target.String())
				both[self+" "+d.Type+" "+d.Target.Key()] = true
				both[d.Target.Key()+" "+d.Reverse+" "+self] = true
			}
			if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && len(got) == 0) {
				t.Errorf("Declared = %s\nwant       %s", s, c.want)
			}
			rels := map[string]bool{}
			for _, r := range ent.Relations() {
				rels[r.Source.Key()+" "+r.Type+" "+r.Target.Key()] = true
			}
			if fmt.Sprint(rels) != fmt.Sprint(both) {
				t.Errorf("Relations %v\nare not Declared and their reverses %v", rels, both)
			}
			loaded, err := catalog.LoadEntity(ent.Body())
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(loaded.Declared()) != fmt.Sprint(ent.Declared()) {
				t.Errorf("LoadEntity's Declared %v differs from NewEntity's %v", loaded.Declared(), ent.Declared())
			}
		})
	}
}
