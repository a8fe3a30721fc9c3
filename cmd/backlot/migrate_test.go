package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/bench"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

const codeownersSpec = `apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: add-codeowners}
spec:
  targets:
    selector: entity.kind == "Component" && entity.spec.type == "service"
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
  merge: auto
`

func migrationReport(t *testing.T, base, id string) migration.Report {
	t.Helper()
	resp, err := http.Get(base + "/api/migrations/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r migration.Report
	json.NewDecoder(resp.Body).Decode(&r)
	return r
}

// TestMigrationOf200RepositoriesSurvivesAKill runs a migration over 200
// repositories with 20 at a time in backlot dev, kills the process with
// SIGKILL mid-run, starts it again, and finds every change request opened
// and merged exactly once; running the migration again changes nothing.
func TestMigrationOf200RepositoriesSurvivesAKill(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	catalogFile := filepath.Join(root, "fleet.yaml")
	const n = 200
	if err := bench.MakeFleetRepos(context.Background(), filepath.Join(data, "repos"), catalogFile, n, nil); err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(root, "codeowners.yaml")
	os.WriteFile(specFile, []byte(codeownersSpec), 0o644)

	d := startWorkflowDev(t, bin, data, "", catalogFile)
	waitTotal(t, d.base, n+1, 60*time.Second)
	out, err := d.backlot(t, bin, "migrate", "run", specFile, "-o", "json")
	if err != nil {
		t.Fatalf("migrate run: %v\n%s", err, out)
	}
	var plan struct {
		ID      string   `json:"id"`
		Targets []string `json:"targets"`
	}
	json.Unmarshal([]byte(out), &plan)
	if plan.ID == "" || len(plan.Targets) != n {
		t.Fatalf("plan %s", out)
	}
	// Kill once a fifth is merged, while 20 run.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := migrationReport(t, d.base, plan.ID)
		if r.Counts[migration.StateMerged] >= n/5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not a fifth merged in 2 minutes: %v", r.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.cmd.Process.Kill()
	d.cmd.Wait()

	d2 := startWorkflowDev(t, bin, data, d.temporal, catalogFile)
	start := time.Now()
	out, err = d2.backlot(t, bin, "migrate", "status", plan.ID, "--watch", "-o", "json")
	if err != nil {
		t.Fatalf("migrate status --watch after the restart: %v\n%s", err, out)
	}
	var r migration.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.State != migration.MigrationCompleted || r.Counts[migration.StateMerged] != n {
		t.Fatalf("after the restart: %s %v", r.State, r.Counts)
	}
	t.Logf("the rest of the migration after the restart took %s", time.Since(start).Round(time.Millisecond))
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		var cs struct {
			Items []githost.Change `json:"items"`
		}
		resp, err := http.Get(d2.base + "/api/git/repos/team-a/" + name + "/changes")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&cs)
		resp.Body.Close()
		if len(cs.Items) != 1 || cs.Items[0].State != githost.ChangeMerged || cs.Items[0].Branch != "backlot/add-codeowners" {
			t.Fatalf("%s: change requests %+v, want one merged", name, cs.Items)
		}
		repo := filepath.Join(data, "repos", "team-a", name+".git")
		if got := gitShowFile(t, repo, "CODEOWNERS"); got != "* @group:default/team-a\n" {
			t.Fatalf("%s: CODEOWNERS %q", name, got)
		}
		refs, _ := exec.Command("git", "--git-dir", repo, "for-each-ref", "--format=%(refname)", "refs/heads").Output()
		if strings.Count(string(refs), "backlot/add-codeowners") != 1 {
			t.Fatalf("%s: branches %s", name, refs)
		}
	}

	// Again: every repository is already migrated.
	out, err = d2.backlot(t, bin, "migrate", "run", specFile, "--watch", "-o", "json")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	r = migration.Report{}
	json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &r)
	if r.Counts[migration.StateUnchanged] != n {
		t.Fatalf("second run: %v", r.Counts)
	}
	var cs struct {
		Items []githost.Change `json:"items"`
	}
	resp, err := http.Get(d2.base + "/api/git/repos/team-a/svc-007/changes")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&cs)
	resp.Body.Close()
	if len(cs.Items) != 1 {
		t.Fatalf("the second run opened change requests: %+v", cs.Items)
	}
	// Each transition is in the target's history in the log.
	resp, err = http.Get(d2.base + "/api/audit/events?subject=component:default/svc-007&type=backlot.migration.target.changed.v1")
	if err != nil {
		t.Fatal(err)
	}
	var evs struct {
		Items []struct {
			Event struct {
				Data json.RawMessage `json:"data"`
			} `json:"event"`
		} `json:"items"`
	}
	json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	var states []string
	for _, e := range evs.Items {
		var d struct{ State string }
		json.Unmarshal(e.Event.Data, &d)
		states = append(states, d.State)
	}
	if got := strings.Join(states, ","); !strings.Contains(got, "targeted") || !strings.Contains(got, "opened") || !strings.Contains(got, "merged") || !strings.HasSuffix(got, "unchanged") {
		t.Fatalf("svc-007's migration events: %s", got)
	}
}

// TestMigrationCanaryStopsAndRetryFailedFinishes runs a small migration in
// backlot dev whose canary wave has a failing script: the rollout stops with
// the script's output in the failed row; after the fix, retry-failed and
// resume finish it. Its histories are recorded for the replay tests of
// workflows/migration (BACKLOT_RECORD_HISTORIES=1).
func TestMigrationCanaryStopsAndRetryFailedFinishes(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	catalogFile := filepath.Join(root, "fleet.yaml")
	if err := bench.MakeFleetRepos(context.Background(), filepath.Join(data, "repos"), catalogFile, 6, nil); err != nil {
		t.Fatal(err)
	}
	// The script runs in its sandbox, which sees its checkout and no file
	// of the test: the fix is a commit to the repository, as it would be.
	spec := strings.NewReplacer("echo \"* @${BACKLOT_OWNER}\" > CODEOWNERS",
		"if [ \"$BACKLOT_ENTITY_NAME\" = svc-001 ] && [ ! -e go.mod ]; then echo 'cannot parse go.mod' >&2; exit 3; fi\n      echo \"* @${BACKLOT_OWNER}\" > CODEOWNERS",
		"maxConcurrent: 20", "maxConcurrent: 2\n    waves: [2]\n    stopOnFailureRate: 0.2").Replace(codeownersSpec)
	specFile := filepath.Join(root, "spec.yaml")
	os.WriteFile(specFile, []byte(spec), 0o644)
	d := startWorkflowDev(t, bin, data, "", catalogFile)
	waitTotal(t, d.base, 7, 30*time.Second)
	out, err := d.backlot(t, bin, "migrate", "run", specFile, "--watch")
	if err == nil || !strings.Contains(out, "stopped") {
		t.Fatalf("the canary should stop the rollout: %v\n%s", err, out)
	}
	id := strings.TrimSpace(strings.Fields(out[strings.Index(out, "migration ")+len("migration "):])[0])
	r := migrationReport(t, d.base, id)
	var failed migration.TargetRow
	for _, row := range r.Targets {
		if row.State == migration.StateFailed {
			failed = row
		}
		if row.Ref >= "component:default/svc-002" && row.State != migration.StatePending {
			t.Fatalf("%s was touched after the canary stopped: %s", row.Ref, row.State)
		}
	}
	if failed.Ref != "component:default/svc-001" || !strings.Contains(failed.Output, "cannot parse go.mod") {
		t.Fatalf("failed row %+v", failed)
	}
	fixRepo(t, filepath.Join(data, "repos", "team-a", "svc-001.git"), "go.mod", "module example.com/svc-001\n")
	for _, op := range []string{"retry-failed", "resume"} {
		if out, err := d.backlot(t, bin, "migrate", op, id); err != nil {
			t.Fatalf("%s: %v %s", op, err, out)
		}
	}
	out, err = d.backlot(t, bin, "migrate", "status", id, "--watch", "-o", "json")
	if err != nil {
		t.Fatalf("after retry: %v\n%s", err, out)
	}
	json.Unmarshal([]byte(out), &r)
	if r.State != migration.MigrationCompleted || r.Counts[migration.StateMerged] != 6 {
		t.Fatalf("after retry: %s %v", r.State, r.Counts)
	}
	for _, typ := range []string{migration.WorkflowName, migration.RepoWorkflowName} {
		recordHistoriesOf(t, d.temporal, typ, "../../workflows/migration/testdata", "canary-"+typ)
	}
}

// fixRepo commits file (with content) to the default branch of the bare
// repository repo, through a clone.
func fixRepo(t *testing.T, repo, file, content string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fix")
	env := append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Fixer", "GIT_AUTHOR_EMAIL=fixer@localhost", "GIT_COMMITTER_NAME=Fixer", "GIT_COMMITTER_EMAIL=fixer@localhost")
	run := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run(filepath.Dir(dir), "clone", "-q", repo, dir)
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	run(dir, "add", file)
	run(dir, "commit", "-q", "-m", "Fix "+file)
	run(dir, "push", "-q", "origin", "HEAD")
}
