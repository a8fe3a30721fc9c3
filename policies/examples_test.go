package policies

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// exampleEntities reads the entities of examples/catalog by ref.
func exampleEntities(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob("../examples/catalog/*.yaml")
	out := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var e map[string]any
			if err := dec.Decode(&e); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			md, _ := e["metadata"].(map[string]any)
			kind, _ := e["kind"].(string)
			name, _ := md["name"].(string)
			out[strings.ToLower(kind)+":default/"+name] = e
		}
	}
	return out
}

// relationsOf derives the dependsOn relations of a descriptor, as the catalog does.
func relationsOf(e map[string]any) []Relation {
	spec, _ := e["spec"].(map[string]any)
	deps, _ := spec["dependsOn"].([]any)
	var rs []Relation
	for _, d := range deps {
		ref, _ := d.(string)
		kind, name, _ := strings.Cut(ref, ":")
		rs = append(rs, Relation{Type: "dependsOn", TargetRef: kind + ":default/" + name})
	}
	return rs
}

func loadExample(t *testing.T, name string) *Compiled {
	t.Helper()
	ps, err := LoadPolicies(filepath.Join("../examples/policies", name))
	if err != nil || len(ps) != 1 {
		t.Fatalf("%s: %v", name, err)
	}
	c, err := Compile(ps[0])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func failing(r Result) string {
	var ids []string
	for _, c := range r.Checks {
		if !c.Passed {
			ids = append(ids, c.ID)
			if c.Error != "" {
				ids = append(ids, "ERROR("+c.Error+")")
			}
		}
	}
	return strings.Join(ids, ",")
}

func TestExamplePolicies(t *testing.T) {
	t.Parallel()
	ents := exampleEntities(t)
	get := func(ref string) map[string]any {
		e, ok := ents[ref]
		if !ok {
			t.Fatalf("no %s in examples/catalog", ref)
		}
		return e
	}
	withOnCall := func(e map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range e {
			c[k] = v
		}
		md := map[string]any{}
		for k, v := range e["metadata"].(map[string]any) {
			md[k] = v
		}
		md["annotations"] = map[string]any{"pagerduty.com/service-id": "P123"}
		c["metadata"] = md
		return c
	}
	allFacts := map[string]map[string]any{
		"repo": {"readme": true, "codeowners": true, "tests": true},
		"ci":   {"coverage": 86.5, "mainBranchPassing": true},
	}
	deprecated := map[string]map[string]any{"catalog": {"deprecatedRefs": []any{"component:default/legacy-tracking-page"}}}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	certification := loadExample(t, "test-certification.yaml")
	readiness := loadExample(t, "production-readiness.yaml")
	for _, tc := range []struct {
		name    string
		policy  *Compiled
		in      Input
		applies bool
		level   string
		failing string
	}{
		{"certification: an API is not rated", certification, Input{Entity: get("api:default/route-planner-api")}, false, "", ""},
		{"certification: no facts is bronze", certification, Input{Entity: get("component:default/route-planner")}, true, "bronze", "has-readme,has-codeowners,has-tests,coverage,main-green"},
		{"certification: every fact is gold", certification, Input{Entity: get("component:default/route-planner"), Facts: allFacts}, true, "gold", ""},
		{"certification: low coverage is silver", certification, Input{Entity: get("component:default/parcel-ui-kit"),
			Facts: map[string]map[string]any{"repo": allFacts["repo"], "ci": {"coverage": 61, "mainBranchPassing": true}}}, true, "silver", "coverage"},
		{"certification: no CODEOWNERS stays bronze", certification, Input{Entity: get("component:default/legacy-tracking-page"),
			Facts: map[string]map[string]any{"repo": {"readme": true, "tests": true}, "ci": allFacts["ci"]}}, true, "bronze", "has-codeowners"},
		{"readiness: a library is not rated", readiness, Input{Entity: get("component:default/go-service-kit")}, false, "", ""},
		{"readiness: route-planner lacks on-call", readiness, Input{Entity: get("component:default/route-planner"), Relations: relationsOf(get("component:default/route-planner"))}, true, "", "on-call"},
		{"readiness: route-planner with on-call is ready", readiness, Input{Entity: withOnCall(get("component:default/route-planner")),
			Relations: relationsOf(get("component:default/route-planner")), Facts: deprecated}, true, "ready", ""},
		{"readiness: dispatch-service lacks a runbook", readiness, Input{Entity: withOnCall(get("component:default/dispatch-service")),
			Relations: relationsOf(get("component:default/dispatch-service"))}, true, "", "runbook"},
		{"readiness: depending on the deprecated page", readiness, Input{Entity: withOnCall(get("component:default/route-planner")),
			Relations: append(relationsOf(get("component:default/route-planner")), Relation{Type: "dependsOn", TargetRef: "component:default/legacy-tracking-page"}),
			Facts:     deprecated}, true, "", "no-deprecated-dependencies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.in.Now = now
			r := tc.policy.Evaluate(tc.in)
			if r.Applies != tc.applies || r.Level != tc.level || failing(r) != tc.failing || r.Error != "" {
				t.Fatalf("applies %v level %q failing %q (%s), want %v %q %q", r.Applies, r.Level, failing(r), r.Error, tc.applies, tc.level, tc.failing)
			}
		})
	}
}
