package policies

import (
	"strings"
	"testing"
)

const validPolicy = `apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: certification, title: Certification}
spec:
  selector: entity.kind == "Component"
  levels: [bronze, silver]
  checks:
    - {id: has-owner, level: bronze, rule: has(entity.spec.owner), message: An owner}
    - {id: has-system, level: silver, rule: has(entity.spec.system), message: A system}
`

func TestParsePolicies(t *testing.T) {
	t.Parallel()
	ps, err := ParsePolicies("p.yaml", []byte(validPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Metadata.Name != "certification" || len(ps[0].Spec.Checks) != 2 || ps[0].Spec.Checks[1].Level != "silver" {
		t.Fatalf("parsed %+v", ps)
	}
	json := `{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy", "metadata": {"name": "j"},
	  "spec": {"selector": "true", "levels": ["ok"], "checks": [{"id": "a", "level": "ok", "rule": "true"}]}}`
	if ps, err := ParsePolicies("p.json", []byte(json)); err != nil || len(ps) != 1 {
		t.Fatalf("JSON: %v %v", ps, err)
	}
}

func TestParsePoliciesNamesFilePolicyCheckAndField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"no levels", func(s string) string { return strings.Replace(s, "[bronze, silver]", "[]", 1) }, []string{"p.yaml: policy certification: spec.levels: is empty"}},
		{"a level twice", func(s string) string { return strings.Replace(s, "[bronze, silver]", "[bronze, bronze, silver]", 1) }, []string{"spec.levels[1]", `"bronze" appears twice`}},
		{"unknown level", func(s string) string { return strings.Replace(s, "level: silver", "level: gold", 1) }, []string{"p.yaml: policy certification: check has-system: spec.checks[1].level", `"gold" is not one of the levels`}},
		{"a check id twice", func(s string) string { return strings.Replace(s, "id: has-system", "id: has-owner", 1) }, []string{"check has-owner: spec.checks[1].id", "appears twice"}},
		{"a level without checks", func(s string) string { return strings.Replace(s, "[bronze, silver]", "[bronze, silver, gold]", 1) }, []string{"spec.levels[2]", `"gold" has no check`}},
		{"no selector", func(s string) string { return strings.Replace(s, `entity.kind == "Component"`, `""`, 1) }, []string{"policy certification: spec.selector: is empty"}},
		{"no rule", func(s string) string { return strings.Replace(s, "rule: has(entity.spec.system)", `rule: ""`, 1) }, []string{"check has-system: spec.checks[1].rule: is empty"}},
		{"no name", func(s string) string { return strings.Replace(s, "name: certification, ", "", 1) }, []string{"metadata.name: is empty"}},
		{"wrong kind", func(s string) string { return strings.Replace(s, "kind: Policy", "kind: Component", 1) }, []string{"kind: is \"Component\""}},
		{"unknown field", func(s string) string { return strings.Replace(s, "levels:", "levles:", 1) }, []string{"p.yaml", "levles"}},
		{"broken YAML", func(s string) string { return s + "  - {id: [\n" }, []string{"p.yaml: document 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePolicies("p.yaml", []byte(tc.edit(validPolicy)))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParsePoliciesKeepsTheGoodDocuments(t *testing.T) {
	t.Parallel()
	broken := strings.Replace(strings.Replace(validPolicy, "certification", "broken", 1), "level: silver", "level: gold", 1)
	ps, err := ParsePolicies("p.yaml", []byte(broken+"---\n"+validPolicy))
	if err == nil || !strings.Contains(err.Error(), "policy broken") {
		t.Fatalf("error %v", err)
	}
	if len(ps) != 1 || ps[0].Metadata.Name != "certification" {
		t.Fatalf("parsed %+v", ps)
	}
}
