package migration_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/migration"
)

// issueSpec is the example of the fleet-migrations issue.
const issueSpec = `apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: add-codeowners}
spec:
  targets:
    selector: entity.kind == "Component" && entity.spec.type == "service"
    refs: [component:default/checkout-api]
  change:
    script: |
      echo "* @${BACKLOT_OWNER}" > CODEOWNERS
    timeout: 2m
  pullRequest:
    branch: backlot/add-codeowners
    title: Add CODEOWNERS
    body: Adds CODEOWNERS to ${{ entity.metadata.name }}
  rollout:
    maxConcurrent: 20
    maxPerHour: 200
    waves: [5, 50]
    stopOnFailureRate: 0.2
  merge: auto
  deadline: 2027-01-31
`

func TestParseTheIssuesExample(t *testing.T) {
	t.Parallel()
	s, err := migration.Parse([]byte(issueSpec))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Timeout(); d != 2*time.Minute || s.Spec.Merge != "auto" || s.Spec.Rollout.MaxConcurrent != 20 {
		t.Fatalf("spec: %+v", s.Spec)
	}
	if got := s.Spec.Rollout.Plan(200); !reflect.DeepEqual(got, []int{5, 50, 145}) {
		t.Errorf("plan of 200: %v", got)
	}
	if got := s.Spec.Rollout.Plan(3); !reflect.DeepEqual(got, []int{3}) {
		t.Errorf("plan of 3: %v", got)
	}
}

func TestSpecErrorsNameTheField(t *testing.T) {
	t.Parallel()
	bad := `apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: Bad_Name}
spec:
  targets: {selector: 'entity.kind =='}
  change: {script: "", timeout: 2 hours}
  pullRequest: {branch: "a..b", title: "${{ entity.", body: ok}
  rollout: {maxConcurrent: -1, waves: [5, 0], stopOnFailureRate: 2}
  merge: sometimes
  deadline: soon
`
	_, err := migration.Parse([]byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"metadata.name", "spec.targets.selector: migration Bad_Name: selector 1:", "spec.change.script: is empty",
		"spec.change.timeout", "spec.pullRequest.branch", "spec.pullRequest.title", "spec.rollout.maxConcurrent", "spec.rollout.waves[1]",
		"spec.rollout.stopOnFailureRate", "spec.merge", "spec.deadline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not name %q", err, want)
		}
	}
	if _, err := migration.Parse([]byte(issueSpec + "extra: 1\n")); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("an unknown field: %v", err)
	}
}

func TestRolloutDecisions(t *testing.T) {
	t.Parallel()
	r := migration.Rollout{MaxConcurrent: 3, MaxPerHour: 4, StopOnFailureRate: 0.2}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	starts := []time.Time{now.Add(-70 * time.Minute), now.Add(-50 * time.Minute), now.Add(-10 * time.Minute), now.Add(-5 * time.Minute)}
	if n, _ := r.Slots(1, starts, now); n != 1 {
		t.Errorf("3 started in the last hour of 4 allowed, 1 running of 3: %d slots, want 1", n)
	}
	if n, _ := r.Slots(3, nil, now); n != 0 {
		t.Errorf("all running: %d slots", n)
	}
	full := append(starts, now.Add(-time.Minute))
	if n, next := r.Slots(0, full, now); n != 0 || !next.Equal(now.Add(10*time.Minute)) {
		t.Errorf("hour spent: %d slots, next %v", n, next)
	}
	for _, c := range []struct {
		p    migration.WaveProgress
		stop bool
	}{
		{migration.WaveProgress{Done: 4, Failed: 1}, false},             // 20% is not above 20%
		{migration.WaveProgress{Done: 3, Failed: 2}, true},              // 40%
		{migration.WaveProgress{Done: 1, Failed: 2, Running: 2}, false}, // not finished yet
	} {
		if got := r.Stop(c.p); got != c.stop {
			t.Errorf("%+v: stop %v, want %v", c.p, got, c.stop)
		}
	}
}

func TestChooseTargets(t *testing.T) {
	t.Parallel()
	s, err := migration.Parse([]byte(strings.Replace(issueSpec, "    refs: [component:default/checkout-api]\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	ent := func(name, typ, loc string) map[string]any {
		md := map[string]any{"name": name, "namespace": "default"}
		if loc != "" {
			md["annotations"] = map[string]any{migration.AnnotationSourceLocation: loc}
		}
		return map[string]any{"kind": "Component", "metadata": md, "spec": map[string]any{"type": typ, "owner": "team-a"}}
	}
	entities := []map[string]any{
		ent("checkout-api", "service", "url:file:///repos/northwind/checkout-api.git"),
		ent("web", "website", "url:file:///repos/northwind/web.git"),
		ent("no-repo", "service", ""),
	}
	targets, skipped, err := s.Choose(entities, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || targets[0].Ref != "component:default/checkout-api" || targets[0].Repo != "file:///repos/northwind/checkout-api.git" {
		t.Fatalf("targets %+v", targets)
	}
	if len(skipped) != 1 || skipped[0].Ref != "component:default/no-repo" || !strings.Contains(skipped[0].Reason, "source-location") {
		t.Fatalf("skipped %+v", skipped)
	}
	if env := targets[0].Env(); !reflect.DeepEqual(env, []string{"BACKLOT_ENTITY_REF=component:default/checkout-api", "BACKLOT_ENTITY_NAME=checkout-api", "BACKLOT_OWNER=team-a"}) {
		t.Errorf("env %v", env)
	}
	title, body, err := s.PullRequest(targets[0])
	if err != nil || title != "Add CODEOWNERS" || body != "Adds CODEOWNERS to checkout-api" {
		t.Errorf("pull request %q %q %v", title, body, err)
	}

	s.Spec.Targets.Refs = []string{"checkout-api", "component:default/gone"}
	targets, skipped, _ = s.Choose(entities, time.Now())
	if len(targets) != 1 || len(skipped) != 1 || skipped[0].Ref != "component:default/gone" {
		t.Errorf("with refs: targets %+v skipped %+v", targets, skipped)
	}
}
