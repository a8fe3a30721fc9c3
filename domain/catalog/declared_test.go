package catalog_test

import (
	"fmt"
	"slices"
	"strings"
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

// TestRelationsAreDerivedFromDeclared checks Relations, made from Declared
// on the first call, against the list the spec's walk gave before (both
// directions of every target in the spec's order, sorted stably by source
// key, type and target key, the first of each kept): duplicates of another
// case, relations to the entity itself, a type declared by two fields.
func TestRelationsAreDerivedFromDeclared(t *testing.T) {
	t.Parallel()
	body := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "A", "namespace": "ns"},
		"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "Team-A", "system": "sys",
			"subcomponentOf": "component:A",
			"dependsOn":      []any{"Component:B", "resource:db", "component:b", "Resource:DB", "component:ns/a"},
			"dependencyOf":   []any{"component:b"}, "providesApis": []any{"api-x", "API:api-X"}, "consumesApis": []any{"api-x"}}}
	want := []string{
		"api:ns/api-x apiConsumedBy component:ns/A",
		"api:ns/api-x apiProvidedBy component:ns/A",
		"component:ns/A consumesApi api:ns/api-x",
		"component:ns/a dependencyOf component:ns/A",
		"component:ns/A dependencyOf component:ns/b",
		"component:ns/A dependsOn component:ns/a",
		"component:ns/A dependsOn component:ns/B",
		"component:ns/A dependsOn resource:ns/db",
		"component:ns/A hasPart component:ns/A",
		"component:ns/A ownedBy group:ns/Team-A",
		"component:ns/A partOf component:ns/A",
		"component:ns/A partOf system:ns/sys",
		"component:ns/A providesApi api:ns/api-x",
		"component:ns/B dependencyOf component:ns/A",
		"component:ns/b dependsOn component:ns/A",
		"group:ns/Team-A ownerOf component:ns/A",
		"resource:ns/db dependencyOf component:ns/A",
		"system:ns/sys hasPart component:ns/A",
	}
	ent, err := catalog.NewEntity(body)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := catalog.LoadEntity(ent.Body())
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]*catalog.Entity{"NewEntity": ent, "LoadEntity": loaded,
		"WithAnnotations": ent.WithAnnotations(map[string]string{"a": "b"})} {
		var got []string
		for _, r := range e.Relations() {
			got = append(got, r.Source.String()+" "+r.Type+" "+r.Target.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Relations\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
