package scaffolder_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/internal/testenv/fixtures"
	"backlot.dev/backlot/workflows/scaffolder"
)

// fixture reads one of the shared test templates (internal/testenv/fixtures)
// as JSON.
func fixture(t *testing.T, name string) *scaffolder.Template {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures.Template(name), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := yaml.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := scaffolder.FromEntity("template:default/"+name, j)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestFixtureTemplatesReadAndRender(t *testing.T) {
	t.Parallel()
	tpl := fixture(t, "gin-service")
	if len(tpl.Pages) != 2 || len(tpl.Steps) != 3 || tpl.Steps[1].Action != "publish:github" {
		t.Fatalf("template: %+v", tpl)
	}
	ps := tpl.ParameterSchema()
	if ps.Title != "A Gin service on Go" || len(ps.Steps) != 2 || ps.Steps[1].Title != "Where it lives" {
		t.Fatalf("parameter schema: %+v", ps)
	}
	params, err := tpl.Parameters(map[string]any{"component_id": "ledger", "module": "example.com/ledger", "go_version": 1.22,
		"owner": "group:default/team-a", "repoUrl": "github.com?owner=northwind&repo=ledger"})
	if err != nil {
		t.Fatal(err)
	}
	if params["port"] != ":8080" {
		t.Fatalf("the default port was not filled in: %v", params)
	}
	vars := map[string]any{"parameters": params}
	in, err := scaffolder.Render("steps.template.input", tpl.Steps[0].Input, vars)
	if err != nil {
		t.Fatal(err)
	}
	values := in.(map[string]any)["values"].(map[string]any)
	if values["component_id"] != "ledger" || values["go_version"] != 1.22 || values["port"] != ":8080" {
		t.Fatalf("rendered values: %v", values)
	}
	vars["steps"] = map[string]any{"publish": map[string]any{"output": map[string]any{"repoContentsUrl": "https://git.example/northwind/ledger/tree/main"}}}
	reg, err := scaffolder.Render("steps.register.input", tpl.Steps[2].Input, vars)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"repoContentsUrl": "https://git.example/northwind/ledger/tree/main", "catalogInfoPath": "/catalog-info.yaml"}; !reflect.DeepEqual(reg, want) {
		t.Fatalf("register input: %v", reg)
	}
}

func TestParameterErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tpl := fixture(t, "gin-service")
	_, err := tpl.Parameters(map[string]any{"component_id": 7, "go_version": 1.5, "owner": "team-a"})
	var pe *scaffolder.ParameterError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"parameters.component_id: ", "parameters.module: is required", "parameters.repoUrl: is required", "parameters.go_version: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
}

func TestStepsIfAndEach(t *testing.T) {
	t.Parallel()
	body := `{"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
	 "spec": {"steps": [
	   {"id": "a", "action": "debug:log", "if": "${{ parameters.enabled }}", "each": "${{ parameters.names }}", "input": {"message": "hi ${{ each.value }}"}},
	   {"id": "b", "action": "debug:log", "if": false},
	   {"id": "c", "action": "debug:log", "each": {"x": 1, "y": 2}}]}}`
	tpl, err := scaffolder.FromEntity("template:default/t", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"parameters": map[string]any{"enabled": true, "names": []any{"ada", "grace"}}}
	for _, c := range []struct {
		step  int
		on    bool
		items string
	}{{0, true, `["ada","grace"]`}, {1, false, `null`}, {2, true, `[{"key":"x","value":1},{"key":"y","value":2}]`}} {
		s := tpl.Steps[c.step]
		on, err := s.Enabled(vars)
		if err != nil || on != c.on {
			t.Errorf("step %s enabled %v %v, want %v", s.ID, on, err, c.on)
		}
		items, err := s.Items(vars)
		if b, _ := json.Marshal(items); err != nil || string(b) != c.items {
			t.Errorf("step %s items %s %v, want %s", s.ID, b, err, c.items)
		}
	}
	msg, err := scaffolder.Render("steps.a.input", tpl.Steps[0].Input, map[string]any{"each": map[string]any{"value": "ada", "index": 0}})
	if err != nil || msg.(map[string]any)["message"] != "hi ada" {
		t.Fatalf("rendered %v %v", msg, err)
	}
}

func TestBrokenTemplatesNameTheField(t *testing.T) {
	t.Parallel()
	_, err := scaffolder.FromEntity("template:default/bad", []byte(`{"apiVersion": "scaffolder.backstage.io/v1beta2", "kind": "Template",
	  "spec": {"parameters": 5, "steps": [{"id": "x", "action": "a"}, {"id": "x"}]}}`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"template template:default/bad: apiVersion", "spec.parameters", `spec.steps[1].id: "x" appears twice`, "spec.steps[1].action: is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not say %q", err, want)
		}
	}
}

// TestFixtureStepWithIfAndEach reads the Node.js fixture's welcome step: off
// when no maintainer is named, once per maintainer otherwise.
func TestFixtureStepWithIfAndEach(t *testing.T) {
	t.Parallel()
	tpl := fixture(t, "node-service")
	if len(tpl.Pages) != 2 || len(tpl.Steps) != 5 {
		t.Fatalf("template: %d pages, %d steps", len(tpl.Pages), len(tpl.Steps))
	}
	s := tpl.Steps[3]
	if s.ID != "welcome" || s.Action != "debug:log" {
		t.Fatalf("step 3: %+v", s)
	}
	params, err := tpl.Parameters(map[string]any{"name": "parcel-api", "repoUrl": "github.com?owner=larkspur&repo=parcel-api"})
	if err != nil {
		t.Fatal(err)
	}
	if on, err := s.Enabled(map[string]any{"parameters": params}); err != nil || on {
		t.Errorf("without maintainers the step is enabled: %v %v", on, err)
	}
	params["maintainers"] = []any{"ada.okafor", "mei.tanaka"}
	vars := map[string]any{"parameters": params}
	if on, err := s.Enabled(vars); err != nil || !on {
		t.Errorf("with maintainers the step is off: %v %v", on, err)
	}
	items, err := s.Items(vars)
	if b, _ := json.Marshal(items); err != nil || string(b) != `["ada.okafor","mei.tanaka"]` {
		t.Fatalf("items %s %v", b, err)
	}
	msg, err := scaffolder.Render("steps.welcome.input", s.Input, map[string]any{"each": map[string]any{"value": "mei.tanaka", "index": 1}})
	if err != nil || msg.(map[string]any)["message"] != "Welcome aboard, mei.tanaka" {
		t.Fatalf("rendered %v %v", msg, err)
	}
}

// TestAllowedHostsAreCheckedWithTheParameters gives the example template a
// repository location on a host its RepoUrlPicker does not allow: the
// parameters are refused, naming the field, before any task starts.
func TestAllowedHostsAreCheckedWithTheParameters(t *testing.T) {
	t.Parallel()
	info := example(t)
	tpl, err := scaffolder.FromEntity(info.Ref, info.Body)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"name": "ledger", "owner": "group:default/team-a", "repoUrl": "github.com?owner=team-a&repo=ledger"}
	_, err = tpl.Parameters(values)
	var pe *scaffolder.ParameterError
	if !errors.As(err, &pe) || pe.Field != "parameters.repoUrl" || !strings.Contains(pe.Problem, `host "github.com" is not allowed`) {
		t.Fatalf("a repository on a host the template does not allow: %v", err)
	}
	values["repoUrl"] = "local?owner=team-a&repo=ledger"
	if _, err := tpl.Parameters(values); err != nil {
		t.Fatalf("an allowed host: %v", err)
	}
}
