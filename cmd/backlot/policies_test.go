package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/policies"
)

// TestPoliciesTestExplainsEachCheck runs `backlot policies test` against
// `backlot dev` serving the example catalog (plus one service that depends on
// the deprecated tracking page) with the example policies.
func TestPoliciesTestExplainsEachCheck(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cat := filepath.Join(dir, "catalog")
	os.MkdirAll(cat, 0o755)
	files, _ := filepath.Glob("../../examples/catalog/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "all.yaml" {
			data = append(data, "    - ./extra.yaml\n"...)
		}
		os.WriteFile(filepath.Join(cat, filepath.Base(f)), data, 0o644)
	}
	os.WriteFile(filepath.Join(cat, "extra.yaml"), []byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: partner-links
  annotations:
    pagerduty.com/service-id: P42
  links:
    - url: https://runbooks.northwind-parcel.example/partner-links
      title: Runbook
spec:
  type: service
  lifecycle: production
  owner: web-team
  system: customer-web
  dependsOn:
    - component:legacy-tracking-page
`), 0o644)
	p := startDevProc(t, bin, filepath.Join(dir, "data"), filepath.Join(cat, "all.yaml"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/api/catalog/entities/by-name/component/default/partner-links")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the catalog was not loaded within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// run runs the test; a check that fails or errs must make it exit 1,
	// and it must exit 0 when every check passes.
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--url", p.base, "policies", "test"}, args...)...).CombinedOutput()
		failing := regexp.MustCompile(`(?m)^\s*(FAIL|ERROR)\s`).Match(out)
		var exit *exec.ExitError
		switch {
		case failing && !(errors.As(err, &exit) && exit.ExitCode() == 1 && strings.Contains(string(out), "checks did not pass on")):
			t.Fatalf("backlot policies test %s with failing checks: want exit status 1 and a message, got %v\n%s", strings.Join(args, " "), err, out)
		case !failing && err != nil:
			t.Fatalf("backlot policies test %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	contains := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(squeeze(out), squeeze(w)) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
	readiness := "../../examples/policies/production-readiness.yaml"
	certification := "../../examples/policies/test-certification.yaml"

	out := run(readiness, "--entity", "component:default/route-planner")
	contains(out, "policy production-readiness (Production readiness) on component:default/route-planner",
		"PASS    ready  has-owner", "FAIL    ready  on-call", "PASS    ready  runbook", "PASS    ready  no-deprecated-dependencies",
		"level: none (lowest: ready)")

	out = run(readiness, "--entity", "component:default/partner-links")
	contains(out, "PASS    ready  on-call", "FAIL    ready  no-deprecated-dependencies", "level: none")

	out = run(readiness, "--entity", "component:default/go-service-kit")
	contains(out, "does not apply")

	facts := filepath.Join(dir, "facts.json")
	os.WriteFile(facts, []byte(`{"repo": {"readme": true, "codeowners": true, "tests": true}, "ci": {"coverage": 83.5, "mainBranchPassing": true}}`), 0o644)
	out = run(certification, "--entity", "component:default/route-planner", "--facts", facts)
	contains(out, "PASS    gold    coverage  Line coverage is at least 80%", "level: gold")
	out = run(certification, "--entity", "component:default/route-planner")
	contains(out, "PASS    bronze  has-owner", "FAIL    silver  has-readme", "level: bronze")

	var r policies.Result
	if err := json.Unmarshal([]byte(run(certification, "--entity", "component:default/route-planner", "--facts", facts, "-o", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Policy != "test-certification" || !r.Applies || r.Level != "gold" || len(r.Checks) != 8 {
		t.Errorf("json result %+v", r)
	}

	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(`apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: broken}
spec:
  selector: entity.kind == "Component"
  levels: [bronze]
  checks:
    - {id: owner, level: bronze, rule: has(entity.spec.owner), message: An owner}
    - {id: typo, level: bronze, rule: 'entity.spec.lifecycle = "production"', message: Production}
`), 0o644)
	out = run(broken, "--entity", "component:default/route-planner")
	contains(out, "PASS    bronze  owner", "ERROR   bronze  typo", "policy broken: check typo: rule 1:23: Syntax error", "level: none")

	cmd := exec.Command(bin, "--url", p.base, "policies", "test", readiness, "--entity", "component:default/nothing-here")
	if o, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(o), "component:default/nothing-here not found") {
		t.Errorf("a missing entity: %v %s", err, o)
	}
}
