package permission

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAllowedGroups(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ann  map[string]string
		want []string
	}{
		{"absent", nil, nil},
		{"empty", map[string]string{AllowedGroupsAnnotation: " , "}, nil},
		{"two", map[string]string{AllowedGroupsAnnotation: "group:default/a, user:default/b,"}, []string{"group:default/a", "user:default/b"}},
	}
	for _, c := range cases {
		if got := AllowedGroups(c.ann); !slices.Equal(got, c.want) {
			t.Errorf("%s: AllowedGroups = %q, want %q", c.name, got, c.want)
		}
	}
}

// The constructors give the default policy what it reads.
func TestResourceConstructorsUnderDefaultPolicy(t *testing.T) {
	t.Parallel()
	e, err := Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name    string
		p       Principal
		a       Permission
		r       Resource
		allowed bool
	}{
		{"entity owner member", bob, CatalogEntityRefresh, EntityResource("Component", "component:default/x", "group:default/z", []string{"user:default/bob"}), true},
		{"entity other", alice, CatalogEntityRefresh, EntityResource("Component", "component:default/x", "group:default/z", nil), false},
		{"template restricted", alice, ScaffolderTaskCreate, TemplateResource("template:default/t", map[string]string{AllowedGroupsAnnotation: "group:default/team-b"}), false},
		{"template restricted member", carol, ScaffolderTaskCreate, TemplateResource("template:default/t", map[string]string{AllowedGroupsAnnotation: "group:default/team-b"}), true},
		{"template open", alice, ScaffolderTaskCreate, TemplateResource("template:default/t", nil), true},
		{"task creator", carol, ScaffolderTaskCancel, TaskResource("t1", "user:default/carol"), true},
		{"approval no approvers", dave, ScaffolderApprovalDecide, ApprovalResource("t1", "ok", "user:default/carol", nil, false), false},
		{"approval self", carol, ScaffolderApprovalDecide, ApprovalResource("t1", "ok", "user:default/carol", []string{"user:default/carol"}, false), false},
		{"approval self allowed", carol, ScaffolderApprovalDecide, ApprovalResource("t1", "ok", "user:default/carol", []string{"user:default/carol"}, true), true},
		{"subscription creator", bob, EventsSubscriptionDelete, SubscriptionResource("s1", "user:default/bob"), true},
	}
	for _, c := range checks {
		if d := e.Decide(c.p, c.a, c.r); d.Allowed != c.allowed {
			t.Errorf("%s: %+v, want allowed %v", c.name, d, c.allowed)
		}
	}
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "perm.yaml")
	if err := os.WriteFile(name, DefaultYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile(name)
	if err != nil || p.Metadata.Name != "default" {
		t.Fatalf("ParseFile = %v, %v", p, err)
	}
	if err := os.WriteFile(name, []byte("apiVersion: backlot.dev/v1alpha1\nkind: PermissionPolicy\nmetadata: {name: x}\nspec: {rules: []}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(name); err == nil || !strings.Contains(err.Error(), name+`: permission policy "x": spec.rules is empty`) {
		t.Errorf("ParseFile of an empty policy: %v", err)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("ParseFile of a missing file: %v", err)
	}
}
