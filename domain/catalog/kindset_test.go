package catalog_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// TestBuiltinKindsRefuseOptionalOnes: without extra kinds a catalog refuses
// what Backstage's catalog refuses without plugins (AiResource, Environment,
// an API of a remote type without a definition), naming the field and how
// to accept the kind; with them, the same files are read.
func TestBuiltinKindsRefuseOptionalOnes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, field, message string
	}{
		{"ai-resources/routing-skill.yaml", "kind", "AiResource is an optional kind"},
		{"environments/staging-environment.yaml", "kind", "Environment is an optional kind"},
		{"apis/dispatch-assistant-mcp-api.yaml", "spec.definition", "is required for kind API"},
		{"apis/eta-model-api.yaml", "spec.definition", "is required for kind API"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "catalog", tc.file)
			ents, errs := readFixtureAs(t, nil, path)
			if len(ents) != 0 || len(errs) != 1 {
				t.Fatalf("the built-in kinds read %d entities, %d errors from %s; want one error", len(ents), len(errs), tc.file)
			}
			var de *catalog.DocumentError
			if !errors.As(errs[0], &de) || de.Field != tc.field || !strings.Contains(errs[0].Error(), tc.message) {
				t.Fatalf("error %v, want field %s and %q", errs[0], tc.field, tc.message)
			}
			if ents, errs = readFixture(t, path); len(ents) != 1 || len(errs) != 0 {
				t.Fatalf("with the plugin kinds: %d entities, errors %v", len(ents), errs)
			}
		})
	}
}

// TestCustomKind: an extra kind no schema describes is accepted with any
// apiVersion, its envelope and metadata still validated.
func TestCustomKind(t *testing.T) {
	t.Parallel()
	kinds, err := catalog.NewKinds([]string{"Workflow", " ", "Workflow"})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds.Extra(); !slices.Equal(got, []string{"Workflow"}) {
		t.Fatalf("Extra() = %v", got)
	}
	body := func(kind, name string) map[string]any {
		return map[string]any{"apiVersion": "larkspur.example/v2", "kind": kind,
			"metadata": map[string]any{"name": name}, "spec": map[string]any{"steps": 3}}
	}
	e, err := kinds.NewEntity(body("Workflow", "nightly-export"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Ref().String() != "workflow:default/nightly-export" {
		t.Fatalf("ref %s", e.Ref())
	}
	if _, err := kinds.NewEntity(body("Workflow", "-bad")); err == nil || !strings.Contains(err.Error(), "metadata.name") {
		t.Fatalf("a bad name in a custom kind must be refused naming metadata.name, got %v", err)
	}
	if _, err := catalog.NewEntity(body("Workflow", "nightly-export")); err == nil || !strings.Contains(err.Error(), `unknown kind "Workflow"`) {
		t.Fatalf("the built-in kinds must refuse Workflow, got %v", err)
	}
	if _, err := kinds.NewEntity(body("Gadget", "x")); err == nil {
		t.Fatal("a kind not named must stay refused")
	}
}

// TestNewKindsRefusesBadNames: a name that is not a kind, differs in case
// from a known kind, or names an unknown API type is an error naming it.
func TestNewKindsRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ai-resource", "aiResource", "API:graphql", "Component:x", "1Kind"} {
		if _, err := catalog.NewKinds([]string{name}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("NewKinds(%q) = %v, want an error naming it", name, err)
		}
	}
	if _, err := catalog.NewKinds([]string{"Component", "API:mcp-server"}); err != nil {
		t.Fatalf("a built-in kind and a remote API type are fine: %v", err)
	}
}
