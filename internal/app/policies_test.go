package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/app"
)

// TestPoliciesAreLoadedFromLocations registers the example policies and a
// broken one as catalog locations: GET /api/policies lists them, the broken
// one with its error naming the check and the position in the rule.
func TestPoliciesAreLoadedFromLocations(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(`apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: broken}
spec:
  selector: entity.kind == "Component"
  levels: [basic]
  checks:
    - id: good
      level: basic
      rule: has(entity.spec.owner)
    - id: typo
      level: basic
      rule: entity.spec.owner ==
`), 0o644)
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir, examples}})
	defer d.Close()
	for _, f := range []string{filepath.Join(examples, "test-certification.yaml"), filepath.Join(examples, "production-readiness.yaml"), broken} {
		if code, _ := postJSON(t, "http://"+d.Addr()+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
			t.Fatalf("register %s: %d", f, code)
		}
	}
	var out struct {
		Items []struct {
			ID     string   `json:"id"`
			Levels []string `json:"levels"`
			Checks int      `json:"checks"`
			Errors []struct {
				Check   string
				Line    int
				Message string
			} `json:"errors"`
		} `json:"items"`
	}
	if code := get(t, d, "/api/policies", &out); code != http.StatusOK || len(out.Items) != 3 {
		t.Fatalf("policies: %d %+v", code, out)
	}
	byID := map[string]int{}
	for i, p := range out.Items {
		byID[p.ID] = i
	}
	tc := out.Items[byID["test-certification"]]
	if len(tc.Levels) != 3 || tc.Checks < 5 || len(tc.Errors) != 0 {
		t.Fatalf("test-certification: %+v", tc)
	}
	b := out.Items[byID["broken"]]
	if len(b.Errors) != 1 || b.Errors[0].Check != "typo" || b.Errors[0].Line != 1 || !strings.Contains(b.Errors[0].Message, "broken") {
		t.Fatalf("broken: %+v", b)
	}
}
