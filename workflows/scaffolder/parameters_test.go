package scaffolder_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

// conditionalTemplate has conditional fields (dependencies with oneOf,
// if/then/else) and pages shown only with a feature flag or to a group.
const conditionalTemplate = `{
 "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
 "metadata": {"name": "conditional"},
 "spec": {
  "parameters": [
   {"title": "Service",
    "required": ["name", "kind"],
    "properties": {
      "name": {"type": "string", "ui:field": "EntityNamePicker"},
      "kind": {"type": "string", "enum": ["web", "worker"], "default": "web"},
      "database": {"type": "boolean", "default": false}
    },
    "dependencies": {
      "kind": {"oneOf": [
        {"properties": {"kind": {"const": "web"}, "port": {"type": "integer", "default": 8080}, "path": {"type": "string"}}, "required": ["port", "path"]},
        {"properties": {"kind": {"const": "worker"}, "queue": {"type": "string"}}, "required": ["queue"]}
      ]}
    },
    "if": {"properties": {"database": {"const": true}}},
    "then": {"properties": {"engine": {"type": "string", "enum": ["postgres", "mysql"]}}, "required": ["engine"]},
    "else": {"properties": {"cache": {"type": "string", "default": "none"}}}
   },
   {"title": "Experimental", "backstage:featureFlag": "experimental",
    "required": ["canary"], "properties": {"canary": {"type": "string"}}},
   {"title": "Admins only", "backstage:memberOf": "group:default/admins",
    "required": ["budget"], "properties": {"budget": {"type": "integer"}}},
   {"title": "Repository",
    "required": ["repoUrl"],
    "properties": {
      "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker",
                  "ui:options": {"allowedHosts": ["github.com"], "allowedOwners": ["northwind"]}},
      "secretField": {"type": "string", "backstage:featureFlag": "secret"}
    }}
  ],
  "steps": [{"id": "log", "action": "debug:log", "input": {"message": "hi"}}]
 }
}`

func conditional(t *testing.T) *scaffolder.Template {
	t.Helper()
	tpl, err := scaffolder.FromEntity("template:default/conditional", []byte(conditionalTemplate))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestConditionalParameters(t *testing.T) {
	t.Parallel()
	tpl := conditional(t)
	repo := "github.com?owner=northwind&repo=ledger"
	cases := []struct {
		name   string
		values string
		viewer scaffolder.Viewer
		want   string // the values kept, as JSON
		errs   []string
	}{
		{name: "web: its own fields required and kept, the worker's dropped",
			values: `{"name": "ledger", "kind": "web", "path": "/", "queue": "jobs", "repoUrl": "` + repo + `"}`,
			want:   `{"name": "ledger", "kind": "web", "database": false, "port": 8080, "path": "/", "cache": "none", "repoUrl": "` + repo + `"}`},
		{name: "web without its required path",
			values: `{"name": "ledger", "kind": "web", "repoUrl": "` + repo + `"}`,
			errs:   []string{"parameters.path: is required"}},
		{name: "worker needs a queue, not a path",
			values: `{"name": "ledger", "kind": "worker", "repoUrl": "` + repo + `"}`,
			errs:   []string{"parameters.queue: is required"}},
		{name: "a database asks for its engine; the cache is hidden",
			values: `{"name": "ledger", "kind": "worker", "queue": "q", "database": true, "engine": "postgres", "cache": "redis", "repoUrl": "` + repo + `"}`,
			want:   `{"name": "ledger", "kind": "worker", "queue": "q", "database": true, "engine": "postgres", "repoUrl": "` + repo + `"}`},
		{name: "a database without its engine",
			values: `{"name": "ledger", "kind": "worker", "queue": "q", "database": true, "repoUrl": "` + repo + `"}`,
			errs:   []string{"parameters.engine: is required"}},
		{name: "hidden pages are not validated, their values dropped",
			values: `{"name": "ledger", "kind": "worker", "queue": "q", "canary": 5, "budget": "x", "secretField": "s", "extra": 1, "repoUrl": "` + repo + `"}`,
			want:   `{"name": "ledger", "kind": "worker", "queue": "q", "database": false, "cache": "none", "extra": 1, "repoUrl": "` + repo + `"}`},
		{name: "a page shown with its flag and to a member is validated",
			values: `{"name": "ledger", "kind": "worker", "queue": "q", "repoUrl": "` + repo + `"}`,
			viewer: scaffolder.Viewer{Ref: "user:default/ada", Groups: []string{"group:default/admins"}, FeatureFlags: []string{"experimental"}},
			errs:   []string{"parameters.budget: is required", "parameters.canary: is required"}},
		{name: "ui:field and ui:options checks",
			values: `{"name": "-bad-", "kind": "worker", "queue": "q", "repoUrl": "gitlab.com?owner=acme&repo=x"}`,
			errs: []string{`parameters.name: "-bad-" is not a valid entity name`, `parameters.repoUrl: host "gitlab.com" is not allowed`,
				`parameters.repoUrl: owner "acme" is not allowed`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var values map[string]any
			if err := json.Unmarshal([]byte(c.values), &values); err != nil {
				t.Fatal(err)
			}
			got, err := tpl.ParametersFor(values, c.viewer)
			if len(c.errs) > 0 {
				if err == nil {
					t.Fatalf("no error, kept %v", got)
				}
				for _, e := range c.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q does not hold %q", err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			var gotPlain map[string]any
			json.Unmarshal(gotJSON, &gotPlain)
			if !reflect.DeepEqual(gotPlain, want) {
				t.Errorf("kept %s\nwant %s", gotJSON, c.want)
			}
		})
	}
}
