package migration_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

const branch = "backlot/add-codeowners"

// quiet drops the test environment's logs (a line per activity).
var quiet = tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))

// fleet creates n local repositories fleet/svc-000… with one file each, and
// returns the host and the targets a migration chooses among their entities.
func fleet(t *testing.T, n int) (*githost.Local, []migration.Target) {
	t.Helper()
	ctx := context.Background()
	host, err := githost.NewLocal(filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("# a service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	entities := make([]map[string]any, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := fmt.Sprintf("svc-%03d", i)
			r, err := host.CreateRepo(ctx, "fleet", name, "main", "")
			if err == nil {
				_, err = host.Publish(ctx, r, src, "init", "")
			}
			if err != nil {
				errs <- err
				return
			}
			loc := r.RemoteURL
			if i%2 == 1 {
				loc = r.ContentsURL() // the ?ref= form the catalog's url locations use
			}
			entities[i] = map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
				"metadata": map[string]any{"name": name, "namespace": "default", "annotations": map[string]any{migration.AnnotationSourceLocation: "url:" + loc}},
				"spec":     map[string]any{"type": "service", "owner": "team-a"}}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	targets, skipped, err := parseSpec(t, "true", migration.Rollout{}, "auto").Choose(entities, time.Now())
	if err != nil || len(skipped) > 0 || len(targets) != n {
		t.Fatalf("choose: %d targets, skipped %v, %v", len(targets), skipped, err)
	}
	return host, targets
}

// parseSpec is a migration adding CODEOWNERS, whose script runs first.
func parseSpec(t *testing.T, first string, r migration.Rollout, merge string) *migration.Spec {
	t.Helper()
	waves := ""
	if len(r.Waves) > 0 {
		waves = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(r.Waves)), ", "), "[]")
	}
	doc := fmt.Sprintf(`apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: add-codeowners}
spec:
  targets: {selector: 'entity.kind == "Component"'}
  change:
    script: |
      %s
      echo "* @${BACKLOT_OWNER}" > CODEOWNERS
    timeout: 1m
  pullRequest:
    branch: %s
    title: Add CODEOWNERS
    body: Adds CODEOWNERS to ${{ entity.metadata.name }}
  rollout: {maxConcurrent: %d, maxPerHour: %d, waves: [%s], stopOnFailureRate: %g}
  merge: %s
`, strings.ReplaceAll(first, "\n", "\n      "), branch, max(r.MaxConcurrent, 1), r.MaxPerHour, waves, r.StopOnFailureRate, merge)
	s, err := migration.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return s
}

// events collects what the activities record.
type events struct {
	mu  sync.Mutex
	all []event.Envelope
}

func (e *events) record(_ context.Context, evs []event.Envelope) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, evs...)
	return nil
}

// targetStates lists the recorded states of each entity, in order, and the
// migration's own states.
func (e *events) states(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	per := map[string][]string{}
	var own []string
	ids := map[string]bool{}
	for _, ev := range e.all {
		if ids[ev.ID] {
			t.Errorf("event id %s twice", ev.ID)
		}
		ids[ev.ID] = true
		switch event.Type(ev.Type) {
		case event.TypeMigrationTargetChanged:
			var d event.MigrationTargetChanged
			if err := ev.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if d.Entity != ev.Subject || ev.CorrelationID == "" {
				t.Errorf("event %+v", ev)
			}
			per[ev.Subject] = append(per[ev.Subject], d.State)
		case event.TypeMigrationChanged:
			var d event.MigrationChanged
			if err := ev.Decode(&d); err != nil {
				t.Fatal(err)
			}
			own = append(own, d.State)
		}
	}
	return per, own
}

// harness runs migrations in test environments with the real activities.
type harness struct {
	t      *testing.T
	host   *githost.Local
	events *events
	acts   *migration.Activities
	mu     sync.Mutex
	starts []string // child workflow ids, in start order
}

func newHarness(t *testing.T, host *githost.Local) *harness {
	ev := &events{}
	return &harness{t: t, host: host, events: ev, acts: &migration.Activities{Host: host, WorkDir: t.TempDir(), Record: ev.record, Actor: "user:default/ada"}}
}

func (h *harness) env() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	migration.Register(env, h.acts)
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		h.mu.Lock()
		h.starts = append(h.starts, info.WorkflowExecution.ID)
		h.mu.Unlock()
	})
	return env
}

// run runs a migration to its end and returns its summary.
func (h *harness) run(env *testsuite.TestWorkflowEnvironment, in migration.Input) migration.Summary {
	h.t.Helper()
	env.ExecuteWorkflow(migration.WorkflowName, in)
	if !env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		h.t.Fatal(err)
	}
	var s migration.Summary
	if err := env.GetWorkflowResult(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func progress(t *testing.T, env *testsuite.TestWorkflowEnvironment) migration.Report {
	t.Helper()
	v, err := env.QueryWorkflow(migration.QueryProgress)
	if err != nil {
		t.Fatal(err)
	}
	var r migration.Report
	if err := v.Get(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func input(t *testing.T, id string, spec *migration.Spec, targets []migration.Target) migration.Input {
	t.Helper()
	in, err := migration.NewInput(id, spec, targets, "user:default/ada")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// gitShow returns a file of a bare repository's branch, or "" without it.
func gitShow(t *testing.T, host *githost.Local, name, rev string) string {
	t.Helper()
	r, err := host.Repo(context.Background(), "fleet", name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", strings.TrimPrefix(r.RemoteURL, "file://"), "show", rev).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func changes(t *testing.T, host *githost.Local, name string) []githost.Change {
	t.Helper()
	r, err := host.Repo(context.Background(), "fleet", name)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := host.Changes(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func countStates(rows []migration.TargetRow) map[migration.TargetState]int {
	out := map[migration.TargetState]int{}
	for _, r := range rows {
		out[r.State]++
	}
	return out
}

// TestMigrationOf200Repositories migrates 200 real repositories, 20 at a
// time, merging automatically: each ends merged with its default branch
// changed and one change request; the second run of the same migration
// finds every repository migrated and opens nothing.
func TestMigrationOf200Repositories(t *testing.T) {
	t.Parallel()
	const n = 200
	host, targets := fleet(t, n)
	h := newHarness(t, host)
	spec := parseSpec(t, "", migration.Rollout{MaxConcurrent: 20}, "auto")

	env := h.env()
	running, most := 0, 0
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) {
		running++
		most = max(most, running)
	})
	env.SetOnChildWorkflowCompletedListener(func(*workflow.Info, converter.EncodedValue, error) { running-- })
	var report migration.Report
	s := h.run(env, input(t, "m-200", spec, targets))
	report = progress(t, env)
	if s.State != migration.MigrationCompleted || s.Counts[migration.StateMerged] != n {
		t.Fatalf("summary %+v", s)
	}
	if most != 20 {
		t.Errorf("at most %d children ran at once, want 20", most)
	}
	for i, row := range report.Targets {
		name := fmt.Sprintf("svc-%03d", i)
		if row.State != migration.StateMerged || row.Change != 1 || !strings.HasSuffix(row.ChangeURL, "/fleet/"+name+".git#change/1") {
			t.Fatalf("row %+v", row)
		}
		if got := gitShow(t, host, name, "main:CODEOWNERS"); got != "* @team-a\n" {
			t.Fatalf("%s: CODEOWNERS on main is %q", name, got)
		}
		if cs := changes(t, host, name); len(cs) != 1 || cs[0].State != githost.ChangeMerged || cs[0].Title != "Add CODEOWNERS" || cs[0].Body != "Adds CODEOWNERS to "+name {
			t.Fatalf("%s: change requests %+v", name, cs)
		}
	}
	per, own := h.events.states(t)
	if len(per) != n || strings.Join(own, ",") != "started,completed" {
		t.Fatalf("%d entities with events, migration events %v", len(per), own)
	}
	if got := strings.Join(per["component:default/svc-042"], ","); got != "targeted,opened,checks-passed,merged" {
		t.Errorf("svc-042's events: %s", got)
	}
	if b := report.Burndown; len(b) == 0 || b[0].Remaining != n || b[len(b)-1].Remaining != 0 {
		t.Errorf("burndown %+v", b)
	}

	// The same migration again: everything is already migrated.
	h2 := newHarness(t, host)
	env = h2.env()
	s = h2.run(env, input(t, "m-200-again", spec, targets))
	if s.State != migration.MigrationCompleted || s.Counts[migration.StateUnchanged] != n {
		t.Fatalf("second run: %+v", s)
	}
	for i := range n {
		if cs := changes(t, host, fmt.Sprintf("svc-%03d", i)); len(cs) != 1 {
			t.Fatalf("svc-%03d has %d change requests after the second run", i, len(cs))
		}
	}
	per, _ = h2.events.states(t)
	if got := strings.Join(per["component:default/svc-199"], ","); got != "targeted,unchanged" {
		t.Errorf("second run, svc-199's events: %s", got)
	}
}
