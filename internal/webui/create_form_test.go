package webui

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

// kindsPage is a parameter page with every conditional form the generator
// reads: dependencies with oneOf, a property dependency, if/then/else,
// ui:order with "*", enum names and widgets.
var kindsPage = map[string]any{
	"title":    "Kind",
	"required": []any{"kind"},
	"ui:order": []any{"kind", "*", "notes"},
	"properties": map[string]any{
		"kind":    map[string]any{"title": "Kind", "type": "string", "enum": []any{"service", "library"}, "ui:enumNames": []any{"A service", "A library"}, "ui:widget": "radio"},
		"notes":   map[string]any{"title": "Notes", "type": "string", "ui:widget": "textarea", "ui:help": "Anything else"},
		"public":  map[string]any{"title": "Public", "type": "boolean"},
		"secret":  map[string]any{"type": "string", "ui:widget": "password"},
		"hidden":  map[string]any{"type": "string", "ui:widget": "hidden"},
		"labels":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"targets": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []any{"linux", "darwin"}}, "uniqueItems": true},
	},
	"dependencies": map[string]any{
		"kind": map[string]any{"oneOf": []any{
			map[string]any{"properties": map[string]any{"kind": map[string]any{"enum": []any{"service"}}, "port": map[string]any{"title": "Port", "type": "integer", "minimum": 1}}, "required": []any{"port"}},
			map[string]any{"properties": map[string]any{"kind": map[string]any{"enum": []any{"library"}}, "language": map[string]any{"title": "Language", "type": "string"}}},
		}},
		"secret": []any{"public"},
	},
	"if":   map[string]any{"properties": map[string]any{"public": map[string]any{"const": true}}},
	"then": map[string]any{"properties": map[string]any{"domain": map[string]any{"title": "Domain", "type": "string"}}, "required": []any{"domain"}},
	"else": map[string]any{"properties": map[string]any{"team": map[string]any{"title": "Team", "type": "string", "ui:field": "OwnerPicker"}}},
}

func TestResolvePageConditionals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		values   map[string]any
		want     []string
		required []string
	}{
		{"nothing chosen", map[string]any{}, []string{"kind", "hidden", "labels", "public", "secret", "targets", "team", "notes"}, []string{"kind"}},
		{"a service asks for its port", map[string]any{"kind": "service"}, []string{"kind", "hidden", "labels", "port", "public", "secret", "targets", "team", "notes"}, []string{"kind", "port"}},
		{"a library asks for its language", map[string]any{"kind": "library"}, []string{"kind", "hidden", "labels", "language", "public", "secret", "targets", "team", "notes"}, []string{"kind"}},
		{"public asks for a domain, not a team", map[string]any{"public": true}, []string{"kind", "domain", "hidden", "labels", "public", "secret", "targets", "notes"}, []string{"kind", "domain"}},
		{"a secret makes public required", map[string]any{"secret": "x"}, []string{"kind", "hidden", "labels", "public", "secret", "targets", "team", "notes"}, []string{"kind", "public"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			es := resolvePage(kindsPage, c.values)
			if !reflect.DeepEqual(es.order, c.want) {
				t.Errorf("order %v, want %v", es.order, c.want)
			}
			if !reflect.DeepEqual(es.required, c.required) {
				t.Errorf("required %v, want %v", es.required, c.required)
			}
		})
	}
}

func TestFieldsOfWidgets(t *testing.T) {
	t.Parallel()
	values := map[string]any{"kind": "service", "labels": []any{"a", "b"}, "targets": []any{"darwin"}}
	es := resolvePage(kindsPage, values)
	fields := fieldsOf(es, nil, values, map[string]string{"port": "must be >= 1"}, func(picker string, _ map[string]any, _ string) ([]formOption, string) {
		return []formOption{{Value: "group:default/team-a", Label: picker}}, "/create/picker?kind=group"
	})
	got := map[string]formField{}
	var names []string
	for _, f := range fields {
		got[f.Name] = f
		names = append(names, f.Name)
	}
	if _, ok := got["hidden"]; ok {
		t.Error("a ui:widget hidden field is drawn")
	}
	for name, widget := range map[string]string{"kind": "radio", "notes": "textarea", "public": "checkbox", "secret": "password",
		"labels": "lines", "targets": "checkboxes", "port": "number", "team": "picker"} {
		if got[name].Widget != widget {
			t.Errorf("%s: widget %q, want %q (fields %v)", name, got[name].Widget, widget, names)
		}
	}
	if o := got["kind"].Options; len(o) != 2 || o[0].Label != "A service" || !o[0].Selected || o[1].Selected {
		t.Errorf("kind's options %+v: want the enum names, service chosen", o)
	}
	if got["port"].Error != "must be >= 1" || got["port"].Min != "1" || !got["port"].Required {
		t.Errorf("port %+v", got["port"])
	}
	if got["labels"].Value != "a\nb" {
		t.Errorf("labels %q", got["labels"].Value)
	}
	if o := got["targets"].Options; len(o) != 2 || o[0].Selected || !o[1].Selected {
		t.Errorf("targets %+v", o)
	}
	if got["notes"].Help != "Anything else" {
		t.Errorf("notes' help %q", got["notes"].Help)
	}
	if got["team"].Picker != "Owner" || len(got["team"].Options) != 1 {
		t.Errorf("team %+v", got["team"])
	}
}

func TestTypedValues(t *testing.T) {
	t.Parallel()
	pages := []scaffolder.Page{{Schema: kindsPage}, {Schema: map[string]any{"properties": map[string]any{
		"repoUrl": map[string]any{"type": "string", "ui:field": "RepoUrlPicker"},
	}}}}
	raw := url.Values{"kind": {"service"}, "port": {"8080"}, "_bool.public": {"1"}, "labels": {"a\n b \n\n"},
		"targets": {"linux", "darwin"}, "repoUrl.host": {"local"}, "repoUrl.owner": {"team a"}, "repoUrl.repo": {"pay"}, "notes": {"  "}}
	got := typedValues(pages, raw)
	want := map[string]any{"kind": "service", "port": int64(8080), "public": false, "labels": []any{"a", "b"},
		"targets": []any{"linux", "darwin"}, "repoUrl": "local?owner=team+a&repo=pay"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("typed values\n got %#v\nwant %#v", got, want)
	}
	// A number that does not parse stays text, for the schema to name.
	if got := typedValues(pages, url.Values{"kind": {"service"}, "port": {"eighty"}}); got["port"] != "eighty" {
		t.Errorf("port %#v", got["port"])
	}
}

func TestFieldErrorsOfTheTemplatesOwnChecks(t *testing.T) {
	t.Parallel()
	body := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"t"},"spec":{
		"parameters":[{"required":["name"],"properties":{"name":{"type":"string","pattern":"^[a-z]+$"},"repoUrl":{"type":"string","ui:field":"RepoUrlPicker","ui:options":{"allowedHosts":["local"]}}}}],
		"steps":[{"id":"s","action":"debug:log"}]}}`
	tm, err := scaffolder.FromEntity("template:default/t", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Parameters(map[string]any{"name": "Bad Name", "repoUrl": "github.com?owner=a&repo=b"})
	byField, other := fieldErrors(err)
	if !strings.Contains(byField["name"], "does not match pattern") || !strings.Contains(byField["repoUrl"], "not allowed") || len(other) != 0 {
		t.Fatalf("errors by field %v, others %v", byField, other)
	}
	_, err = tm.Parameters(map[string]any{})
	if byField, _ := fieldErrors(err); byField["name"] != "is required" {
		t.Fatalf("a missing name: %v", byField)
	}
}

func TestDiffLines(t *testing.T) {
	t.Parallel()
	got := diffLines("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n same\n")
	var kinds []string
	for _, l := range got {
		kinds = append(kinds, l.Kind)
	}
	if want := "file,file,file,hunk,del,add,ctx"; strings.Join(kinds, ",") != want {
		t.Errorf("kinds %v, want %s", kinds, want)
	}
}
