package scaffolder_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
	"go.yaml.in/yaml/v3"
)

// TestPageWhen checks that a page with a when is validated, and its fields
// kept, only when its when holds over the answers before it.
func TestPageWhen(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/when-pages/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := scaffolder.FromEntity("template:default/when-pages", body)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		values string
		want   string // the values kept, as JSON
		errs   []string
	}{
		{name: "an api without state: storage, queue and alerting pages hidden, their values dropped",
			values: `{"name": "ledger", "shape": "api", "engine": "oracle", "queue": "q", "pager": "p"}`,
			want:   `{"name": "ledger", "shape": "api", "stateful": false, "alerts": false}`},
		{name: "a stateful api is asked its engine",
			values: `{"name": "ledger", "shape": "api", "stateful": true}`,
			errs:   []string{"parameters.engine: is required"}},
		{name: "a stateful api's engine is validated and kept",
			values: `{"name": "ledger", "shape": "api", "stateful": true, "engine": "postgres"}`,
			want:   `{"name": "ledger", "shape": "api", "stateful": true, "engine": "postgres", "alerts": false}`},
		{name: "a worker is asked its queue, not its engine",
			values: `{"name": "ledger", "shape": "worker", "stateful": true}`,
			errs:   []string{"parameters.queue: is required"}},
		{name: "a worker's page gets its defaults",
			values: `{"name": "ledger", "shape": "worker", "queue": "jobs"}`,
			want:   `{"name": "ledger", "shape": "worker", "stateful": false, "queue": "jobs", "concurrency": 4, "alerts": false}`},
		{name: "alerts on shows the alerting page",
			values: `{"name": "ledger", "shape": "api", "alerts": true}`,
			errs:   []string{"parameters.pager: is required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var values map[string]any
			if err := json.Unmarshal([]byte(c.values), &values); err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Parameters(values)
			if len(c.errs) > 0 {
				if err == nil {
					t.Fatalf("no error, kept %v", got)
				}
				for _, e := range c.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q does not hold %q", err, e)
					}
				}
				if strings.Contains(err.Error(), "engine") && !strings.Contains(strings.Join(c.errs, ""), "engine") {
					t.Errorf("error %q names a hidden page's field", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			var gotPlain, want map[string]any
			json.Unmarshal(gotJSON, &gotPlain)
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotPlain, want) {
				t.Errorf("kept %s\nwant %s", gotJSON, c.want)
			}
		})
	}
}
