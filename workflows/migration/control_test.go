package migration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/sandbox"
)

// TestPauseAndResume paces 30 targets at 10 an hour; paused after the first
// hour's ten, nothing starts for hours, and after resume the rest finish.
func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 30)
	h := newHarness(t, host)
	spec := parseSpec(t, "", migration.Rollout{MaxConcurrent: 5, MaxPerHour: 10}, "auto")
	env := h.env()
	var startTimes []time.Time
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) {
		startTimes = append(startTimes, env.Now())
	})
	t0 := env.Now()
	var paused, later migration.Report
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(migration.SignalPause, nil)
	}, 30*time.Minute)
	env.RegisterDelayedCallback(func() { paused = progress(t, env) }, 31*time.Minute)
	env.RegisterDelayedCallback(func() {
		later = progress(t, env)
		env.SignalWorkflow(migration.SignalResume, nil)
	}, 4*time.Hour)
	s := h.run(env, input(t, "m-pause", spec, targets))
	if s.State != migration.MigrationCompleted || s.Counts[migration.StateMerged] != 30 {
		t.Fatalf("summary %+v", s)
	}
	if !paused.Paused || paused.State != migration.MigrationPaused || paused.Counts[migration.StateMerged] != 10 || paused.Counts[migration.StatePending] != 20 {
		t.Fatalf("while paused: %+v", paused.Counts)
	}
	if later.Counts[migration.StateMerged] != 10 || later.Counts[migration.StateOpened] != 0 || later.Counts[migration.StatePending] != 20 {
		t.Fatalf("hours later, still paused: %+v", later.Counts)
	}
	for _, st := range startTimes {
		if d := st.Sub(t0); d > 30*time.Minute && d < 4*time.Hour {
			t.Fatalf("a child started %s after the start, while paused", d)
		}
	}
	if len(startTimes) != 30 {
		t.Fatalf("%d children started", len(startTimes))
	}
	// After resume: ten at once, ten more an hour later.
	if d := startTimes[29].Sub(t0); d < 5*time.Hour {
		t.Errorf("the last child started %s after the start; the hourly budget allows it at 5h", d)
	}
	_, own := h.events.states(t)
	if strings.Join(own, ",") != "started,paused,resumed,completed" {
		t.Errorf("migration events %v", own)
	}
}

// TestRetryFailed fails the script on three targets until a file exists;
// their rows show the script's output, and retry-failed reruns only them.
func TestRetryFailed(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 12)
	h := newHarness(t, host)
	fixed := filepath.Join(t.TempDir(), "fixed")
	// The script sees the host's fixed file through a read-only folder of
	// its sandbox.
	h.acts.Sandbox.ReadOnly = []string{filepath.Dir(fixed)}
	spec := parseSpec(t, fmt.Sprintf(`case "$BACKLOT_ENTITY_NAME" in svc-001|svc-004|svc-007)
  test -e %s || { echo "$BACKLOT_ENTITY_NAME is not ready"; exit 3; };;
esac`, fixed), migration.Rollout{MaxConcurrent: 4}, "auto")
	env := h.env()
	var before migration.Report
	pushed := 0
	env.RegisterDelayedCallback(func() {
		before = progress(t, env)
		for _, name := range []string{"svc-001", "svc-004", "svc-007"} {
			if gitShow(t, host, name, branch) != "" {
				pushed++
			}
		}
		if err := os.WriteFile(fixed, nil, 0o644); err != nil {
			t.Error(err)
		}
		env.SignalWorkflow(migration.SignalRetryFailed, nil)
	}, time.Hour)
	s := h.run(env, input(t, "m-retry", spec, targets))
	if s.State != migration.MigrationCompleted || s.Counts[migration.StateMerged] != 12 {
		t.Fatalf("summary %+v", s)
	}
	if before.Counts[migration.StateFailed] != 3 || before.Counts[migration.StateMerged] != 9 || before.State != migration.MigrationRunning {
		t.Fatalf("before the retry: %s %+v", before.State, before.Counts)
	}
	if !before.Finished() || before.RetryUntil.IsZero() {
		t.Errorf("before the retry every target had finished, yet the report says it is not finished (retry until %s)", before.RetryUntil)
	}
	for _, i := range []int{1, 4, 7} {
		row := before.Targets[i]
		name := fmt.Sprintf("svc-%03d", i)
		if row.State != migration.StateFailed || row.Output != name+" is not ready\n" || !strings.Contains(row.Error, "exit status 3") {
			t.Errorf("failed row %+v", row)
		}
	}
	if pushed != 0 {
		t.Errorf("%d failed scripts pushed their branch", pushed)
	}
	runs := map[string]int{}
	for _, id := range h.starts {
		runs[id]++
	}
	for i := range 12 {
		want := 1
		if i == 1 || i == 4 || i == 7 {
			want = 2
		}
		if got := runs[migration.ChildID("m-retry", fmt.Sprintf("component:default/svc-%03d", i))]; got != want {
			t.Errorf("svc-%03d ran %d times, want %d", i, got, want)
		}
	}
	per, _ := h.events.states(t)
	if got := strings.Join(per["component:default/svc-004"], ","); got != "targeted,failed,targeted,opened,checks-passed,merged" {
		t.Errorf("svc-004's events: %s", got)
	}
	if got := strings.Join(per["component:default/svc-005"], ","); got != "targeted,opened,checks-passed,merged" {
		t.Errorf("svc-005's events: %s", got)
	}
}

// TestCanaryWaveStopsTheRollout fails 3 of a canary wave of 5 over a stop
// rate of 0.2: the rollout stops and touches nothing beyond the wave; cancel
// then ends it.
func TestCanaryWaveStopsTheRollout(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 20)
	h := newHarness(t, host)
	spec := parseSpec(t, `case "$BACKLOT_ENTITY_NAME" in svc-000|svc-002|svc-003) echo broken; exit 1;; esac`,
		migration.Rollout{MaxConcurrent: 10, Waves: []int{5}, StopOnFailureRate: 0.2}, "auto")
	env := h.env()
	var stopped migration.Report
	env.RegisterDelayedCallback(func() {
		stopped = progress(t, env)
		env.SignalWorkflow(migration.SignalCancel, "the canary failed")
	}, 24*time.Hour)
	s := h.run(env, input(t, "m-canary", spec, targets))
	if s.State != migration.MigrationCancelled || s.Reason != "the canary failed" || s.Counts[migration.StateCancelled] != 15 {
		t.Fatalf("summary %+v", s)
	}
	if !stopped.Stopped || stopped.State != migration.MigrationStopped || !strings.Contains(stopped.Reason, "wave 1: 3 of 5 targets failed") ||
		stopped.Counts[migration.StateFailed] != 3 || stopped.Counts[migration.StateMerged] != 2 || stopped.Counts[migration.StatePending] != 15 || stopped.Wave != 1 {
		t.Fatalf("stopped: %+v %s %+v", stopped.State, stopped.Reason, stopped.Counts)
	}
	if len(h.starts) != 5 {
		t.Errorf("%d children started, want the wave's 5", len(h.starts))
	}
	for i := 5; i < 20; i++ {
		name := fmt.Sprintf("svc-%03d", i)
		if len(changes(t, host, name)) != 0 || gitShow(t, host, name, branch) != "" {
			t.Errorf("%s was touched beyond the wave", name)
		}
	}
	_, own := h.events.states(t)
	if strings.Join(own, ",") != "started,stopped,cancelled" {
		t.Errorf("migration events %v", own)
	}
}

// TestStoppedRolloutEndsAfterTheRetryWindow leaves a stopped rollout alone:
// it ends stopped once the retry window passes.
func TestStoppedRolloutEndsAfterTheRetryWindow(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 4)
	h := newHarness(t, host)
	spec := parseSpec(t, `exit 1`, migration.Rollout{Waves: []int{2}, StopOnFailureRate: 0.5}, "auto")
	env := h.env()
	in := input(t, "m-window", spec, targets)
	in.RetryWindow = 48 * time.Hour
	start := env.Now()
	s := h.run(env, in)
	if s.State != migration.MigrationStopped || s.Counts[migration.StateFailed] != 2 || s.Counts[migration.StatePending] != 2 {
		t.Fatalf("summary %+v", s)
	}
	if d := env.Now().Sub(start); d < 48*time.Hour {
		t.Errorf("ended %s after the start, before the retry window", d)
	}
}

// TestContinueAsNew lowers the history limit so that the migration
// continues as new several times; the last run completes every target.
func TestContinueAsNew(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 40)
	h := newHarness(t, host)
	spec := parseSpec(t, "", migration.Rollout{MaxConcurrent: 5}, "auto")
	in := input(t, "m-can", spec, targets)
	in.HistoryLimit = 100
	runs := 0
	for {
		env := h.env()
		completed := 0
		// The test environment keeps no history: ten events a child.
		env.SetOnChildWorkflowCompletedListener(func(*workflow.Info, converter.EncodedValue, error) {
			completed++
			env.SetCurrentHistoryLength(10 * completed)
		})
		env.ExecuteWorkflow(migration.WorkflowName, in)
		var can *workflow.ContinueAsNewError
		if err := env.GetWorkflowError(); errors.As(err, &can) {
			runs++
			if completed == 0 || runs > 20 {
				t.Fatalf("run %d continued as new after %d children", runs, completed)
			}
			in = migration.Input{}
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
				t.Fatal(err)
			}
			if in.State == nil || in.State.Runs != runs {
				t.Fatalf("carried state %+v", in.State)
			}
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		var s migration.Summary
		if err := env.GetWorkflowResult(&s); err != nil {
			t.Fatal(err)
		}
		if s.State != migration.MigrationCompleted || s.Counts[migration.StateMerged] != 40 {
			t.Fatalf("summary %+v", s)
		}
		if r := progress(t, env); r.Runs != runs || len(r.Burndown) == 0 || r.Burndown[0].Remaining != 40 {
			t.Fatalf("report runs %d burndown %+v", r.Runs, r.Burndown)
		}
		break
	}
	if runs < 3 {
		t.Fatalf("continued as new %d times", runs)
	}
	if len(h.starts) != 40 {
		t.Errorf("%d children started for 40 targets", len(h.starts))
	}
	for i := range 40 {
		if cs := changes(t, host, fmt.Sprintf("svc-%03d", i)); len(cs) != 1 || cs[0].State != githost.ChangeMerged {
			t.Fatalf("svc-%03d: %+v", i, cs)
		}
	}
	per, own := h.events.states(t)
	if len(per) != 40 || strings.Join(own, ",") != "started,completed" {
		t.Errorf("%d entities, migration events %v", len(per), own)
	}
}

// TestManualMerge waits for people: a change merged on the host and
// signalled is seen at once, one merged without a signal at the next poll,
// and close-prs closes the last.
func TestManualMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host, targets := fleet(t, 3)
	h := newHarness(t, host)
	spec := parseSpec(t, "", migration.Rollout{}, "manual")
	in := input(t, "m-manual", spec, targets)
	in.PollInterval = time.Hour
	env := h.env()
	repo := func(i int) githost.Repo {
		r, err := host.Repo(ctx, "fleet", fmt.Sprintf("svc-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var waiting, signalled, polled migration.Report
	env.RegisterDelayedCallback(func() {
		waiting = progress(t, env)
		if _, err := host.MergeChange(ctx, repo(0), 1); err != nil {
			t.Error(err)
		}
		env.SignalWorkflow(migration.SignalChangeUpdated, migration.ChangeUpdate{Ref: "component:default/svc-000"})
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		signalled = progress(t, env)
		if _, err := host.MergeChange(ctx, repo(1), 1); err != nil {
			t.Error(err)
		}
	}, 20*time.Minute)
	env.RegisterDelayedCallback(func() {
		polled = progress(t, env)
		env.SignalWorkflow(migration.SignalClosePRs, nil)
	}, 90*time.Minute)
	s := h.run(env, in)
	if s.State != migration.MigrationCompleted || s.Counts[migration.StateMerged] != 2 || s.Counts[migration.StateClosed] != 1 {
		t.Fatalf("summary %+v", s)
	}
	if c := countStates(waiting.Targets); c[migration.StateChecksPassed] != 3 {
		t.Fatalf("waiting for people: %+v", c)
	}
	if c := countStates(signalled.Targets); c[migration.StateMerged] != 1 || signalled.Targets[0].State != migration.StateMerged {
		t.Fatalf("10 minutes after a signalled merge: %+v", c)
	}
	if c := countStates(polled.Targets); c[migration.StateMerged] != 2 || polled.Targets[1].State != migration.StateMerged {
		t.Fatalf("after a poll: %+v", c)
	}
	if cs := changes(t, host, "svc-002"); len(cs) != 1 || cs[0].State != githost.ChangeClosed {
		t.Fatalf("svc-002's change requests: %+v", cs)
	}
	per, _ := h.events.states(t)
	if got := strings.Join(per["component:default/svc-002"], ","); got != "targeted,opened,checks-passed,closed" {
		t.Errorf("svc-002's events: %s", got)
	}
}

// TestDryRun previews the change of each target without pushing anything;
// a target already migrated is unchanged.
func TestDryRun(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 3)
	spec := parseSpec(t, `test "$BACKLOT_ENTITY_NAME" = svc-002 && exit 0`, migration.Rollout{}, "auto")
	targets = append(targets, migration.Target{Ref: "component:default/gone", Name: "gone", Repo: strings.Replace(targets[0].Repo, "svc-000", "gone", 1)})
	in, err := migration.NewDryRunInput(spec, targets, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The previews run as activities of the dry-run workflow, on a worker.
	env := newHarness(t, host).env()
	env.ExecuteWorkflow(migration.DryRunWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("the dry run did not complete: %v", env.GetWorkflowError())
	}
	var ps []migration.Preview
	err = env.GetWorkflowResult(&ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 || ps[0].Unchanged || !strings.Contains(ps[0].Diff, "+++ b/CODEOWNERS\n") || !strings.Contains(ps[0].Diff, "+* @team-a\n") {
		t.Fatalf("preview %+v", ps[0])
	}
	if !ps[2].Unchanged || ps[2].Diff != "" {
		t.Errorf("an already migrated target: %+v", ps[2])
	}
	if !errors.Is(err, nil) || !strings.Contains(ps[3].Error, "not found") {
		t.Errorf("a missing repository: %+v", ps[3])
	}
	for i := range 3 {
		name := fmt.Sprintf("svc-%03d", i)
		if len(changes(t, host, name)) != 0 || gitShow(t, host, name, branch) != "" || gitShow(t, host, name, "main:CODEOWNERS") != "" {
			t.Errorf("%s: the dry run pushed something", name)
		}
	}
}

// TestPrepareKillsAScriptAtItsTimeout runs a script whose children outlive
// it past its timeout: the activity fails at the timeout, not retryable,
// with the output, and the script's process group is gone.
func TestPrepareKillsAScriptAtItsTimeout(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 1)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestActivityEnvironment()
	acts := &migration.Activities{Host: host, WorkDir: t.TempDir()}
	env.RegisterActivity(acts)
	// The script runs in its sandbox (its own PID namespace): its child is
	// found on the host by its unique command line.
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Repo: targets[0].Repo, Title: "x"},
		Script: "echo started; sleep 30.1415 & wait", Timeout: time.Second, Branch: branch}
	start := time.Now()
	_, err := env.ExecuteActivity(acts.Prepare, in)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the script ran %s past a 1s timeout", d)
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != migration.ErrTypeScriptFailed || !ae.NonRetryable() || !strings.Contains(ae.Error(), "timed out") {
		t.Fatalf("error %v", err)
	}
	var sf migration.ScriptFailure
	if err := ae.Details(&sf); err != nil || sf.Output != "started\n" {
		t.Fatalf("details %+v %v", sf, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if cmd, _ := os.ReadFile(p); string(cmd) == "sleep\x0030.1415\x00" {
			// A zombie may linger until reaped; it must not be sleeping.
			status, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
			if !strings.Contains(string(status), "zombie") && len(status) > 0 {
				t.Errorf("the script's child %s still runs", filepath.Dir(p))
			}
		}
	}
	entries, _ := os.ReadDir(acts.WorkDir)
	if len(entries) != 0 {
		t.Errorf("scratch folders left: %v", entries)
	}
}

// TestPrepareReusesTheBranch prepares a target twice: the second time the
// branch already holds the change, so it is reused and nothing is pushed;
// after the change is merged the target is unchanged.
func TestPrepareReusesTheBranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host, targets := fleet(t, 1)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestActivityEnvironment()
	acts := &migration.Activities{Host: host, WorkDir: t.TempDir()}
	env.RegisterActivity(acts)
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Owner: "team-a", Repo: targets[0].Repo, Title: "Add CODEOWNERS"},
		Script: `echo "* @$BACKLOT_OWNER" > CODEOWNERS`, Timeout: time.Minute, Branch: branch}
	prepare := func() migration.PrepareResult {
		t.Helper()
		v, err := env.ExecuteActivity(acts.Prepare, in)
		if err != nil {
			t.Fatal(err)
		}
		var r migration.PrepareResult
		if err := v.Get(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := prepare()
	if first.Unchanged || first.Reused || first.Head == "" || gitShow(t, host, "svc-000", branch+":CODEOWNERS") != "* @team-a\n" {
		t.Fatalf("first: %+v", first)
	}
	if log := gitShow(t, host, "svc-000", branch); !strings.Contains(log, "Author: Backlot <backlot@localhost>") || !strings.Contains(log, "Add CODEOWNERS") {
		t.Errorf("the branch's commit: %s", log)
	}
	second := prepare()
	if !second.Reused || second.Head != first.Head {
		t.Fatalf("second: %+v, first %+v", second, first)
	}
	r, _ := host.Repo(ctx, "fleet", "svc-000")
	c, err := host.OpenChange(ctx, r, branch, "Add CODEOWNERS", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.MergeChange(ctx, r, c.Number); err != nil {
		t.Fatal(err)
	}
	if third := prepare(); !third.Unchanged {
		t.Fatalf("after the merge: %+v", third)
	}
}

// TestPrepareInARelativeWorkDir prepares a target with a scratch folder
// given relative to the working directory, as `backlot dev --data .data`
// gives it: the clone and the script must agree on where the checkout is.
func TestPrepareInARelativeWorkDir(t *testing.T) {
	host, targets := fleet(t, 1)
	t.Chdir(t.TempDir())
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestActivityEnvironment()
	acts := &migration.Activities{Host: host, WorkDir: filepath.Join(".data", "migrations")}
	env.RegisterActivity(acts)
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Owner: "team-a", Repo: targets[0].Repo, Title: "Add CODEOWNERS"},
		Script: `echo "* @$BACKLOT_OWNER" > CODEOWNERS`, Timeout: time.Minute, Branch: branch}
	v, err := env.ExecuteActivity(acts.Prepare, in)
	if err != nil {
		t.Fatalf("prepare in a relative scratch folder: %v", err)
	}
	var r migration.PrepareResult
	if err := v.Get(&r); err != nil {
		t.Fatal(err)
	}
	if r.Unchanged || r.Head == "" || gitShow(t, host, "svc-000", branch+":CODEOWNERS") != "* @team-a\n" {
		t.Fatalf("prepared %+v", r)
	}
}

// TestPrepareRefusesScriptsWithoutASandbox runs Prepare on a worker whose
// bubblewrap is missing: the script is refused with an error that says how
// to fix it, and with --insecure-scripts it runs.
func TestPrepareRefusesScriptsWithoutASandbox(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 1)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Repo: targets[0].Repo, Title: "x"},
		Script: `echo "* @team-a" > CODEOWNERS`, Timeout: time.Minute, Branch: branch}
	acts := &migration.Activities{Host: host, WorkDir: t.TempDir(), Sandbox: sandbox.Config{Bwrap: "/nonexistent/bwrap"}}
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	if _, err := env.ExecuteActivity(acts.Prepare, in); err == nil || !strings.Contains(err.Error(), "--insecure-scripts") || !strings.Contains(err.Error(), "bubblewrap") {
		t.Fatalf("err = %v, want a refusal naming bubblewrap and --insecure-scripts", err)
	}
	if gitShow(t, host, "svc-000", branch) != "" {
		t.Fatal("a refused script pushed its branch")
	}
	insecure := &migration.Activities{Host: host, WorkDir: t.TempDir(), Sandbox: sandbox.Config{Bwrap: "/nonexistent/bwrap", Insecure: true}}
	env = s.NewTestActivityEnvironment()
	env.RegisterActivity(insecure)
	v, err := env.ExecuteActivity(insecure.Prepare, in)
	var res migration.PrepareResult
	if err != nil || v.Get(&res) != nil || res.Unchanged || res.Head == "" {
		t.Fatalf("insecure: %v %+v", err, res)
	}
}

// TestScriptIsSandboxed runs Prepare with a script that tries to read the
// worker's environment and to write outside its checkout: it sees neither,
// and its write in the checkout is committed.
func TestScriptIsSandboxed(t *testing.T) {
	t.Setenv("BACKLOT_SECRETS_KEY", "worker-secret-key")
	host, targets := fleet(t, 1)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	acts := &migration.Activities{Host: host, WorkDir: t.TempDir()}
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	script := `cat /proc/1/environ /proc/$PPID/environ 2>/dev/null | tr '\0' '\n' > seen; env >> seen; id -u > uid; touch /etc/x 2>/dev/null && echo wrote-etc; true`
	in := migration.PrepareInput{Migration: "m", Target: migration.TargetInput{Ref: targets[0].Ref, Name: "svc-000", Repo: targets[0].Repo, Title: "x"},
		Script: script, Timeout: time.Minute, Branch: branch}
	v, err := env.ExecuteActivity(acts.Prepare, in)
	var res migration.PrepareResult
	if err != nil || v.Get(&res) != nil || res.Head == "" {
		t.Fatalf("prepare: %v %+v", err, res)
	}
	if strings.Contains(res.Output, "wrote-etc") {
		t.Error("the script wrote /etc")
	}
	seen := gitShow(t, host, "svc-000", branch+":seen")
	if strings.Contains(seen, "worker-secret-key") || !strings.Contains(seen, "BACKLOT_ENTITY_NAME=svc-000") {
		t.Errorf("the script's view of the environment:\n%s", seen)
	}
	if uid := gitShow(t, host, "svc-000", branch+":uid"); strings.TrimSpace(uid) != "65534" {
		t.Errorf("the script ran as uid %q", uid)
	}
}

// TestDryRunCutsTheDiffAtItsLimit previews with a 40-byte diff limit: the
// diff is cut there and marked truncated.
func TestDryRunCutsTheDiffAtItsLimit(t *testing.T) {
	t.Parallel()
	host, targets := fleet(t, 1)
	spec := parseSpec(t, `seq 1 1000 > numbers`, migration.Rollout{}, "auto")
	in, err := migration.NewDryRunInput(spec, targets, 40)
	if err != nil {
		t.Fatal(err)
	}
	env := newHarness(t, host).env()
	env.ExecuteWorkflow(migration.DryRunWorkflowName, in)
	var ps []migration.Preview
	if err := env.GetWorkflowResult(&ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || !ps[0].Truncated || len(ps[0].Diff) != 41 || ps[0].Error != "" {
		t.Fatalf("preview %+v", ps)
	}
}
