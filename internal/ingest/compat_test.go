package ingest_test

import (
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/ingest"
)

// These tests hold the reading of catalog files to Backstage's behaviour on
// the cases public catalogs showed Backlot and Backstage to disagree on; the
// differences Backlot keeps on purpose are in the README's compatibility notes.

// problemsOf formats the problems as "name field entity" lines, sorted by walk order.
func problemsOf(c *collect) string {
	var b strings.Builder
	for _, p := range c.problems {
		b.WriteString(p.Name + " " + p.Field + " " + p.Entity + "\n")
	}
	return b.String()
}

// TestLocationOfATypeNoReaderHandlesIsAnError: a Location entity of type
// github-discovery is not read as a url location; each of its targets is an
// InputError worded as Backstage's, at every walk, and the Location entity
// itself is kept.
func TestLocationOfATypeNoReaderHandlesIsAnError(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "all.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: discovery}
spec:
  type: github-discovery
  target: https://github.com/larkspur/*/blob/-/catalog-info.yaml
`)
	r := newReader(t, root)
	for i := range 2 {
		c := walk(t, r, "file", filepath.Join(root, "all.yaml"), true)
		if i == 0 && strings.Join(c.refs, ",") != "location:default/discovery" {
			t.Fatalf("walk %d yielded %v, want only the Location", i, c.refs)
		}
		if len(c.problems) != 1 {
			t.Fatalf("walk %d: want one problem, got %+v", i, c.problems)
		}
		p := c.problems[0]
		want := "No processor was able to handle reading of github-discovery:https://github.com/larkspur/*/blob/-/catalog-info.yaml"
		if p.Name != "InputError" || p.Field != "spec.type" || p.Entity != "location:default/discovery" || !strings.HasPrefix(p.Message, want) {
			t.Fatalf("walk %d: problem %+v, want an InputError on spec.type starting %q", i, p, want)
		}
	}
}

// TestSecondCopyOfAnEntityReportsOnlyTheConflict: when a document names an
// entity already read, its own validation errors are not reported (Backstage
// never validates a copy it does not keep); one ConflictError is, at the first
// walk and at every later one, even when the file of the first copy is
// unchanged and not parsed again.
func TestSecondCopyOfAnEntityReportsOnlyTheConflict(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "all.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec:
  targets: [./a.yaml, ./b.yaml]
`)
	write(t, filepath.Join(root, "a.yaml"), component("twice"))
	// The copy lacks its owner; a new entity lacking its owner is still refused with its field.
	noOwner := func(name string) string { return strings.Replace(component(name), "  owner: team-a\n", "", 1) }
	write(t, filepath.Join(root, "b.yaml"), noOwner("twice")+"---\n"+component("once")+"---\n"+noOwner("broken"))
	r := newReader(t, root)
	want := "ConflictError  component:default/twice\nInputError spec.owner component:default/broken\n"
	for i := range 3 {
		c := walk(t, r, "file", filepath.Join(root, "all.yaml"), true)
		if got := problemsOf(c); got != want {
			t.Fatalf("walk %d problems:\n%s\nwant\n%s", i, got, want)
		}
		if !strings.Contains(c.problems[0].Message, "a.yaml") {
			t.Fatalf("the conflict does not name the file of the kept copy: %q", c.problems[0].Message)
		}
		if i == 0 && strings.Join(c.refs, ",") != "component:default/once,component:default/twice,location:default/all" {
			t.Fatalf("first walk yielded %v", c.refs)
		}
	}
}

// TestLocationWithAFailingTargetIsKept: Backlot keeps a Location entity whose
// target cannot be read, with a NotFoundError naming the target, and reads
// its other targets (a knowing difference: Backstage drops it).
func TestLocationWithAFailingTargetIsKept(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "all.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec:
  targets: [./missing.yaml, ./a.yaml]
`)
	write(t, filepath.Join(root, "a.yaml"), component("a"))
	r := newReader(t, root)
	c := walk(t, r, "file", filepath.Join(root, "all.yaml"), false)
	if strings.Join(c.refs, ",") != "component:default/a,location:default/all" {
		t.Fatalf("yielded %v", c.refs)
	}
	if len(c.problems) != 1 || c.problems[0].Name != "NotFoundError" || !strings.HasSuffix(c.problems[0].File, "missing.yaml") {
		t.Fatalf("want one NotFoundError naming missing.yaml, got %+v", c.problems)
	}
}

// TestDocumentsBackstageRefusesAreRefused: descriptors found in public
// catalogs that Backstage refuses are refused here too, naming the field.
func TestDocumentsBackstageRefusesAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, field string
	}{
		{"Location whose targets is null", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\nspec:\n  type: file\n  targets:\n", "spec.targets"},
		{"API without definition", "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: pets}\nspec: {type: openapi, lifecycle: production, owner: team-a}\n", "spec.definition"},
		{"kind no one knows", "apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata: {name: w}\nspec: {owner: team-a}\n", "kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			write(t, filepath.Join(root, "c.yaml"), tc.doc)
			c := walk(t, newReader(t, root), "file", filepath.Join(root, "c.yaml"), false)
			if len(c.refs) != 0 {
				t.Fatalf("yielded %v, want nothing", c.refs)
			}
			if len(c.problems) != 1 || c.problems[0].Name != "InputError" || c.problems[0].Field != tc.field {
				t.Fatalf("want one InputError on %s, got %+v", tc.field, c.problems)
			}
		})
	}
}

// TestExtraKinds: an AiResource is refused by a reader of the built-in kinds,
// as by Backstage's catalog without the plugin that registers it, and read
// by a reader whose kinds name it; so is a custom kind.
func TestExtraKinds(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "c.yaml"), `apiVersion: backstage.io/v1alpha1
kind: AiResource
metadata: {name: routing-conventions}
spec: {type: skill, lifecycle: production, owner: team-a}
---
apiVersion: larkspur.example/v1
kind: Workflow
metadata: {name: nightly-export}
spec: {schedule: daily}
`)
	c := walk(t, newReader(t, root), "file", filepath.Join(root, "c.yaml"), false)
	if len(c.refs) != 0 || len(c.problems) != 2 || c.problems[0].Field != "kind" || !strings.Contains(c.problems[0].Message, "AiResource is an optional kind") {
		t.Fatalf("the built-in kinds read %v with problems %+v; want two kind errors", c.refs, c.problems)
	}
	kinds, err := catalog.NewKinds([]string{"AiResource", "Workflow"})
	if err != nil {
		t.Fatal(err)
	}
	roots, err := ingest.NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	r := ingest.NewReader(ingest.Config{Roots: roots, Kinds: kinds})
	if r.Kinds() != kinds {
		t.Fatal("Kinds() does not return the configured kinds")
	}
	c = walk(t, r, "file", filepath.Join(root, "c.yaml"), false)
	if strings.Join(c.refs, ",") != "airesource:default/routing-conventions,workflow:default/nightly-export" || len(c.problems) != 0 {
		t.Fatalf("with extra kinds: read %v, problems %+v", c.refs, c.problems)
	}
}
