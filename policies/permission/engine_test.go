package permission

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const header = `apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: p}
spec:
`

func TestDenyWinsOverAllow(t *testing.T) {
	t.Parallel()
	p := mustParse(t, header+`  rules:
    - {name: everyone, permissions: ["*"], effect: allow}
    - {name: no-deletes, permissions: ["catalog.*"], effect: deny, if: 'action.endsWith(".delete")'}
`)
	e, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	who := Principal{Ref: "user:default/a"}
	if d := e.Decide(who, CatalogEntityDelete, nil); d.Allowed || d.Rule != "no-deletes" || !strings.Contains(d.Reason, "denied by rule no-deletes") {
		t.Errorf("delete: %+v, want denied by no-deletes", d)
	}
	if d := e.Decide(who, CatalogEntityRead, nil); !d.Allowed || d.Rule != "everyone" {
		t.Errorf("read: %+v, want allowed by everyone", d)
	}
	if d := e.Decide(who, MigrationCreate, nil); !d.Allowed || d.Rule != "everyone" {
		t.Errorf("a glob's deny does not reach beyond it: %+v", d)
	}
}

func TestNoMatchingRuleDenies(t *testing.T) {
	t.Parallel()
	p := mustParse(t, header+`  rules:
    - {name: readers, permissions: [catalog.entity.read], effect: allow, if: '"group:default/r" in principal.groups'}
`)
	e, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Decide(Principal{Ref: "user:default/a"}, CatalogEntityRead, nil)
	if d.Allowed || d.Rule != "" || !strings.Contains(d.Reason, "no rule allows") {
		t.Errorf("got %+v, want denied with no rule", d)
	}
	d = e.Decide(Principal{Ref: "user:default/a"}, CatalogEntityDelete, nil)
	if d.Allowed || d.Rule != "" {
		t.Errorf("a permission no rule covers: %+v, want denied", d)
	}
}

func TestCompileErrorsNameRuleAndPosition(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cond, want string
	}{
		{"syntax", `principal.ref ==`, "permission policy p: rule broken: if 1:"},
		{"undeclared", `principal.team == "a"`, "rule broken: if 1:"},
		{"not bool", `principal.ref`, "rule broken: if 1:1: yields string, want bool"},
		{"dyn not bool", `resource.owner`, "yields dyn, want bool"},
		{"second line", "principal.authenticated &&\n  nosuch(1)", "rule broken: if 2:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Policy{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "p"}, Spec: Spec{Rules: []Rule{
				{Name: "fine", Permissions: []string{"*"}, Effect: Allow, If: "principal.authenticated"},
				{Name: "broken", Permissions: []string{"*"}, Effect: Allow, If: c.cond},
			}}}
			e, err := Compile(p, nil)
			if err == nil || e != nil {
				t.Fatalf("Compile = %v, %v; want an error", e, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Rule != "broken" || ce.Policy != "p" {
				t.Errorf("error %v is not a *CompileError naming rule broken of policy p", err)
			}
		})
	}
}

func TestValidateNamesFileRuleAndField(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, want string }{
		{"kind", "apiVersion: backlot.dev/v1alpha1\nkind: Policy\nmetadata: {name: p}\nspec: {rules: [{name: r, permissions: ['*'], effect: allow}]}\n", `bad.yaml: permission policy "p": kind "Policy"`},
		{"effect", header + "  rules: [{name: r, permissions: ['*'], effect: maybe}]\n", `rule r: effect "maybe"`},
		{"unknown permission", header + "  rules: [{name: r, permissions: [catalog.entity.destroy], effect: allow}]\n", `rule r: permissions: unknown permission "catalog.entity.destroy"`},
		{"empty glob", header + "  rules: [{name: r, permissions: ['nothing.*'], effect: allow}]\n", `rule r: permissions: "nothing.*" covers no known permission`},
		{"twice", header + "  rules: [{name: r, permissions: ['*'], effect: allow}, {name: r, permissions: ['*'], effect: deny}]\n", `rule r: name used twice`},
		{"no permissions", header + "  rules: [{name: r, effect: allow}]\n", `rule r: permissions is empty`},
		{"unknown field", header + "  rules: [{name: r, permissions: ['*'], effect: allow, when: 'true'}]\n", `bad.yaml: yaml: unmarshal errors:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestEvaluationErrorsFailClosed(t *testing.T) {
	t.Parallel()
	p := mustParse(t, header+`  rules:
    - {name: everyone, permissions: ["*"], effect: allow}
    - {name: odd-deny, permissions: [catalog.entity.delete], effect: deny, if: 'resource.flag == 1'}
    - {name: odd-allow, permissions: [migration.read], effect: allow, if: 'resource.missing == "x"'}
`)
	e, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	who := Principal{Ref: "user:default/a"}
	// resource.flag is missing: the deny rule cannot be evaluated, so it denies.
	if d := e.Decide(who, CatalogEntityDelete, Resource{}); d.Allowed || d.Rule != "odd-deny" || !strings.Contains(d.Reason, "could not be evaluated") {
		t.Errorf("failing deny rule: %+v, want denied by odd-deny", d)
	}
	// A failing allow rule does not allow; the next one still may.
	if d := e.Decide(who, MigrationRead, Resource{}); !d.Allowed || d.Rule != "everyone" {
		t.Errorf("failing allow rule: %+v, want allowed by everyone", d)
	}
}

func TestCostLimitStopsRunawayConditions(t *testing.T) {
	t.Parallel()
	p := mustParse(t, header+`  rules:
    - name: slow
      permissions: [catalog.entity.read]
      effect: allow
      if: 'resource.items.all(a, resource.items.all(b, resource.items.all(c, a + b + c >= 0)))'
`)
	e, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]int, 100)
	d := e.Decide(Principal{Ref: "user:default/a"}, CatalogEntityRead, Resource{"items": items})
	if d.Allowed || !strings.Contains(d.Reason, "cost limit") {
		t.Errorf("got %+v, want denied for the cost limit", d)
	}
	d = e.Decide(Principal{Ref: "user:default/a"}, CatalogEntityRead, Resource{"items": items[:5]})
	if !d.Allowed {
		t.Errorf("a small list: %+v, want allowed", d)
	}
}

func TestProgramsCachedByText(t *testing.T) {
	t.Parallel()
	const cond = `principal.ref == "user:default/cached"`
	a, b := compileCondition(cond), compileCondition(cond)
	if a != b || a.prg == nil {
		t.Errorf("the same condition compiled twice: %p, %p", a, b)
	}
}

func TestAllIsSortedAndKnown(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(All); i++ {
		if All[i-1] >= All[i] {
			t.Errorf("All is not sorted at %s, %s", All[i-1], All[i])
		}
	}
	for _, p := range All {
		if !Known(p) {
			t.Errorf("Known(%s) = false", p)
		}
	}
	if Known("catalog.entity.explode") {
		t.Error("Known accepts an unknown permission")
	}
}

func TestResourceIndependent(t *testing.T) {
	t.Parallel()
	e, err := Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action Permission
		want   bool
	}{
		{CatalogEntityRead, true},
		{EventsRead, true},
		{AuditRead, true},
		{CatalogEntityDelete, false},
		{ScaffolderTaskCancel, false},
		{EventsSubscriptionRead, false},
		{Permission("no.such.permission"), true},
	} {
		if got := e.ResourceIndependent(c.action); got != c.want {
			t.Errorf("ResourceIndependent(%s) = %v, want %v", c.action, got, c.want)
		}
	}
	p, err := Parse("hide.yaml", []byte(`apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: hide-groups}
spec:
  rules:
    - name: read-but-groups
      permissions: [catalog.entity.read]
      effect: allow
      if: resource.?kind.orValue("") != "Group"
`))
	if err != nil {
		t.Fatal(err)
	}
	custom, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if custom.ResourceIndependent(CatalogEntityRead) {
		t.Error("a rule reading resource.kind: ResourceIndependent = true")
	}
}
