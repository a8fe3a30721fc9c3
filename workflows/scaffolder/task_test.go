package scaffolder_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/scaffolder"
)

// gitCatalog is the catalog the workflow tests register into: it reads the
// registered catalog-info file from the local host's bare repository with
// git, as the real catalog does, and keeps the events appended.
type gitCatalog struct {
	mu       sync.Mutex
	entities map[string]map[string]any
	events   []event.Envelope
	// fail, while set, fails every registration.
	fail error
}

func newGitCatalog() *gitCatalog { return &gitCatalog{entities: map[string]map[string]any{}} }

func (c *gitCatalog) Register(ctx context.Context, actor, _, target string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	repo, query, _ := strings.Cut(strings.TrimPrefix(target, "file://"), "?")
	var ref, path string
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ref":
			ref = v
		case "path":
			path = v
		}
	}
	out, err := exec.CommandContext(ctx, "git", "--git-dir", repo, "show", ref+":"+path).Output()
	if err != nil {
		return nil, errors.New("read " + target + ": " + err.Error())
	}
	var body map[string]any
	if err := yaml.Unmarshal(out, &body); err != nil {
		return nil, err
	}
	md := body["metadata"].(map[string]any)
	r := strings.ToLower(body["kind"].(string)) + ":default/" + md["name"].(string)
	c.entities[r] = body
	return []string{r}, nil
}

func (c *gitCatalog) Append(_ context.Context, evs []event.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, evs...)
	return nil
}

func (c *gitCatalog) types() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.events {
		out = append(out, e.Type)
	}
	return out
}

// example reads the example go-service template as the catalog would.
func example(t *testing.T) scaffolder.TemplateInfo {
	t.Helper()
	p, err := filepath.Abs("../../examples/templates/go-service/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return templateInfo(t, "template:default/go-service", p)
}

func templateInfo(t *testing.T, ref, path string) scaffolder.TemplateInfo {
	t.Helper()
	raw, err := os.ReadFile(path)
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
	return scaffolder.TemplateInfo{Ref: ref, Version: "v1", Location: "file:" + path, Body: j}
}

type rig struct {
	env  *testsuite.TestWorkflowEnvironment
	acts *scaffolder.Activities
	cat  *gitCatalog
	host *githost.Local
	runs map[string]int
	mu   sync.Mutex
}

func newRig(t *testing.T, s *testsuite.WorkflowTestSuite) *rig {
	t.Helper()
	return newRigWith(t, s, nil)
}

// newRigWith is newRig with the activities changed by with before they are
// registered.
func newRigWith(t *testing.T, s *testsuite.WorkflowTestSuite, with func(*scaffolder.Activities)) *rig {
	t.Helper()
	host, err := githost.NewLocal(filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{env: s.NewTestWorkflowEnvironment(), cat: newGitCatalog(), host: host, runs: map[string]int{}}
	// The test environment's own default (3 s of wall time for the whole
	// workflow) is shorter than a task of real git work takes on a slow,
	// loaded machine; the tests wait on the outcome, not on the clock.
	r.env.SetTestTimeout(2 * time.Minute)
	r.acts = &scaffolder.Activities{WorkDir: filepath.Join(t.TempDir(), "work"), Local: host, Catalog: r.cat}
	key := make([]byte, scaffolder.KeySize)
	rand.Read(key)
	dc, err := scaffolder.NewDataConverter(key)
	if err != nil {
		t.Fatal(err)
	}
	r.env.SetDataConverter(dc)
	if with != nil {
		with(r.acts)
	}
	scaffolder.Register(r.env, r.acts)
	r.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		r.mu.Lock()
		r.runs[info.ActivityType.Name]++
		r.mu.Unlock()
	})
	return r
}

func (r *rig) run(t *testing.T, in scaffolder.TaskInput, secrets scaffolder.Secrets) (scaffolder.TaskState, error) {
	t.Helper()
	r.env.ExecuteWorkflow(scaffolder.WorkflowName, in, secrets)
	if !r.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var st scaffolder.TaskState
	err := r.env.GetWorkflowError()
	if err == nil {
		if err := r.env.GetWorkflowResult(&st); err != nil {
			t.Fatal(err)
		}
		return st, nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.HasDetails() {
		if derr := ae.Details(&st); derr != nil {
			t.Fatal(derr)
		}
	}
	return st, err
}

func goServiceInput(info scaffolder.TemplateInfo, name string) scaffolder.TaskInput {
	return scaffolder.TaskInput{
		ID: "task-" + name, Template: info, User: scaffolder.UserInfo{Ref: "user:default/ada"},
		Parameters: map[string]any{"name": name, "owner": "group:default/team-a", "description": "Pays the bills",
			"goVersion": "1.26", "port": int64(8080), "repoUrl": "local?owner=team-a&repo=" + name},
		CreatedAt: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC),
	}
}

func gitShow(t *testing.T, host *githost.Local, owner, name, file string) string {
	t.Helper()
	r, err := host.Repo(context.Background(), owner, name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", strings.TrimPrefix(r.RemoteURL, "file://"), "show", "main:"+file).CombinedOutput()
	if err != nil {
		t.Fatalf("git show %s: %v: %s", file, err, out)
	}
	return string(out)
}

func TestTheExampleTemplateCreatesARepositoryAndAnEntity(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	st, err := r.run(t, goServiceInput(example(t), "payments"), nil)
	if err != nil {
		t.Fatalf("task failed: %v\nlog: %+v", err, st.Log)
	}
	if st.Status != scaffolder.StatusCompleted {
		t.Fatalf("status %s", st.Status)
	}
	if len(st.Entities) != 1 || st.Entities[0] != "component:default/payments" {
		t.Fatalf("entities %v", st.Entities)
	}
	ent := r.cat.entities["component:default/payments"]
	if spec := ent["spec"].(map[string]any); spec["owner"] != "group:default/team-a" || spec["type"] != "service" {
		t.Fatalf("registered entity %v", ent)
	}
	if md := ent["metadata"].(map[string]any); md["description"] != "Pays the bills" {
		t.Fatalf("description %v", md["description"])
	}
	if got := gitShow(t, r.host, "team-a", "payments", "go.mod"); !strings.Contains(got, "module example.com/team-a/payments") || !strings.Contains(got, "go 1.26") {
		t.Fatalf("go.mod %q", got)
	}
	if got := gitShow(t, r.host, "team-a", "payments", "main.go"); !strings.Contains(got, `addr = ":8080"`) {
		t.Fatalf("main.go %q", got)
	}
	// The CI file is copied without templating: GitHub's own ${{ }} stays.
	if got := gitShow(t, r.host, "team-a", "payments", ".github/workflows/ci.yaml"); !strings.Contains(got, "${{ github.sha }}") {
		t.Fatalf("ci.yaml %q", got)
	}
	links, _ := st.Output["links"].([]any)
	if len(links) != 2 || links[1].(map[string]any)["entityRef"] != "component:default/payments" {
		t.Fatalf("output %v", st.Output)
	}
	if got := r.cat.types(); len(got) != 2 || got[0] != string(event.TypeTaskStarted) || got[1] != string(event.TypeTaskFinished) {
		t.Fatalf("events %v", got)
	}
	var fin event.TaskFinished
	json.Unmarshal(r.cat.events[1].Data, &fin)
	if fin.Status != "completed" || fin.User != "user:default/ada" || fin.TemplateVersion != "v1" || len(fin.Entities) != 1 {
		t.Fatalf("finished event %+v", fin)
	}
	if r.cat.events[0].Actor != "user:default/ada" || r.cat.events[0].CorrelationID != "task-payments" {
		t.Fatalf("started event actor %q correlation %q", r.cat.events[0].Actor, r.cat.events[0].CorrelationID)
	}
	if _, err := os.Stat(filepath.Join(r.acts.WorkDir, "task-payments")); !os.IsNotExist(err) {
		t.Fatalf("workspace left behind: %v", err)
	}
}

func TestAFailedStepIsInTheLogAndRetryResumesFromIt(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	first := newRig(t, &s)
	first.cat.fail = errors.New("catalog unavailable")
	in := goServiceInput(example(t), "ledger")
	st, err := first.run(t, in, nil)
	if err == nil {
		t.Fatal("the task succeeded with the catalog failing")
	}
	if st.Status != scaffolder.StatusFailed || st.FailedStep != "register" {
		t.Fatalf("status %s, failed step %q", st.Status, st.FailedStep)
	}
	var logged bool
	for _, l := range st.Log {
		if l.StepID == "register" && strings.Contains(l.Message, "catalog unavailable") {
			logged = true
		}
	}
	if !logged {
		t.Fatalf("the error is not in the task log: %+v", st.Log)
	}
	if first.runs["publish:git"] != 1 || first.runs["catalog:register"] != 5 {
		t.Fatalf("activity runs %v; publish once and register with its 5 attempts", first.runs)
	}

	// Retry: a new run with the completed steps' outputs; the workspace of
	// the failed run is still there.
	second := newRig(t, &s)
	second.acts.WorkDir, second.acts.Local = first.acts.WorkDir, first.host
	second.host = first.host
	in.Resume = &scaffolder.Resume{Steps: st.StepOutputs, Log: st.Log, Attempt: st.Attempt}
	st2, err := second.run(t, in, nil)
	if err != nil {
		t.Fatalf("retry failed: %v", err)
	}
	if second.runs["fetch:template"] != 0 || second.runs["publish:git"] != 0 || second.runs["catalog:register"] != 1 {
		t.Fatalf("retry ran %v; only register should run", second.runs)
	}
	if st2.Attempt != 2 || st2.Status != scaffolder.StatusCompleted || len(st2.Entities) != 1 {
		t.Fatalf("retry state %+v", st2)
	}
	if len(st2.Log) <= len(st.Log) {
		t.Fatal("the retry's log lost the first run's lines")
	}
}

func TestApprovalWaitsForADecision(t *testing.T) {
	t.Parallel()
	info := approvalTemplate(t)
	for _, approve := range []bool{true, false} {
		var s testsuite.WorkflowTestSuite
		r := newRig(t, &s)
		r.env.RegisterDelayedCallback(func() {
			v, err := r.env.QueryWorkflow(scaffolder.QueryState)
			if err != nil {
				t.Error(err)
				return
			}
			var st scaffolder.TaskState
			v.Get(&st)
			if st.Waiting == nil || st.Waiting.StepID != "approve" || !strings.Contains(st.Waiting.Message, "prod") ||
				!slices.Equal(st.Waiting.Approvers, []string{"group:default/prod-approvers", "user:default/lead"}) || st.Waiting.SelfApproval {
				t.Errorf("waiting %+v", st.Waiting)
			}
			r.env.SignalWorkflow(scaffolder.SignalApproval, scaffolder.Approval{Approved: approve, By: "user:default/lead", Comment: "ok by me"})
		}, 72*time.Hour)
		st, err := r.run(t, scaffolder.TaskInput{ID: "t", Template: info, User: scaffolder.UserInfo{Ref: "user:default/ada"},
			Parameters: map[string]any{"env": "prod"}}, nil)
		if approve {
			if err != nil || st.StepOutputs["approve"]["by"] != "user:default/lead" || st.Status != "completed" {
				t.Fatalf("approved: %v %+v", err, st)
			}
		} else if err == nil || st.FailedStep != "approve" || !strings.Contains(st.Error, "rejected by user:default/lead") {
			t.Fatalf("rejected: %v %+v", err, st)
		}
	}
}

func approvalTemplate(t *testing.T) scaffolder.TemplateInfo {
	t.Helper()
	body := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"gated"},
	"spec":{"parameters":[{"properties":{"env":{"type":"string"}}}],"steps":[
	{"id":"approve","action":"backlot:approval","input":{"message":"Deploy to ${{ parameters.env }}?",
		"approvers":["group:default/${{ parameters.env }}-approvers","user:default/lead"]}},
	{"id":"say","action":"debug:log","input":{"message":"approved by ${{ steps.approve.output.by }}, token ${{ secrets.token }}"}}]}}`
	return scaffolder.TemplateInfo{Ref: "template:default/gated", Version: "v1", Location: "file:" + t.TempDir() + "/t.yaml", Body: json.RawMessage(body)}
}

func TestCancelStopsATaskWaitingForApproval(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	r.env.RegisterDelayedCallback(r.env.CancelWorkflow, time.Hour)
	st, err := r.run(t, scaffolder.TaskInput{ID: "t", Template: approvalTemplate(t), User: scaffolder.UserInfo{Ref: "user:default/ada"}}, nil)
	if !temporal.IsCanceledError(err) {
		t.Fatalf("error %v", err)
	}
	_ = st
	types := r.cat.types()
	if len(types) != 2 || types[1] != string(event.TypeTaskFinished) {
		t.Fatalf("events %v", types)
	}
	var fin event.TaskFinished
	json.Unmarshal(r.cat.events[1].Data, &fin)
	if fin.Status != "cancelled" {
		t.Fatalf("finished %+v", fin)
	}
}

func TestSecretsRenderInActionsAndStayOutOfTheRecord(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	r.env.RegisterDelayedCallback(func() {
		r.env.SignalWorkflow(scaffolder.SignalApproval, scaffolder.Approval{Approved: true, By: "user:default/lead"})
	}, time.Minute)
	st, err := r.run(t, scaffolder.TaskInput{ID: "t", Template: approvalTemplate(t), User: scaffolder.UserInfo{Ref: "user:default/ada"}},
		scaffolder.Secrets{"token": "s3cr3t-value"})
	if err != nil {
		t.Fatal(err)
	}
	// The action rendered the secret, and the log shows it masked.
	var rendered bool
	for _, l := range st.Log {
		rendered = rendered || strings.Contains(l.Message, "token ***")
		if strings.Contains(l.Message, "s3cr3t") {
			t.Fatalf("the task log holds the secret: %q", l.Message)
		}
	}
	if !rendered {
		t.Fatalf("the secret did not render in the action: %+v", st.Log)
	}
	for _, e := range r.cat.events {
		if bytes.Contains(e.Data, []byte("s3cr3t")) {
			t.Fatalf("a catalog event holds the secret: %s", e.Data)
		}
	}
}

func TestTheCodecSealsOnlySecrets(t *testing.T) {
	t.Parallel()
	key := make([]byte, scaffolder.KeySize)
	rand.Read(key)
	dc, err := scaffolder.NewDataConverter(key)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dc.ToPayloads(scaffolder.TaskInput{ID: "visible-task"}, scaffolder.Secrets{"token": "s3cr3t-value"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ps.Payloads[0].Data, []byte("visible-task")) {
		t.Fatal("the task input is not readable")
	}
	if bytes.Contains(ps.Payloads[1].Data, []byte("s3cr3t")) || string(ps.Payloads[1].Metadata["encoding"]) != scaffolder.EncodingSealed {
		t.Fatalf("the secrets are not sealed: %q %v", ps.Payloads[1].Data, ps.Payloads[1].Metadata)
	}
	var in scaffolder.TaskInput
	var sec scaffolder.Secrets
	if err := dc.FromPayloads(ps, &in, &sec); err != nil || sec["token"] != "s3cr3t-value" {
		t.Fatalf("round trip: %v %v", sec, err)
	}
	other := make([]byte, scaffolder.KeySize)
	rand.Read(other)
	dc2, _ := scaffolder.NewDataConverter(other)
	if err := dc2.FromPayloads(ps, &in, &sec); err == nil || !strings.Contains(err.Error(), "sealed under key") {
		t.Fatalf("another key opened the secrets: %v", err)
	}
}

func TestDryRunRendersWithoutSideEffects(t *testing.T) {
	t.Parallel()
	host, err := githost.NewLocal(filepath.Join(t.TempDir(), "repos"))
	if err != nil {
		t.Fatal(err)
	}
	cat := newGitCatalog()
	acts := &scaffolder.Activities{WorkDir: t.TempDir(), Local: host, Catalog: cat}
	in := goServiceInput(example(t), "preview")
	res, err := acts.DryRun(context.Background(), in.Template, in.Parameters, in.User, nil)
	if err != nil {
		t.Fatalf("dry run: %v\n%+v", err, res.Log)
	}
	files := map[string]string{}
	for _, f := range res.DirectoryContents {
		files[f.Path] = f.Base64Content
	}
	for _, want := range []string{"catalog-info.yaml", "go.mod", "main.go", "README.md", "docs/index.md", ".github/workflows/ci.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("dry run has no %s: %v", want, res.DirectoryContents)
		}
	}
	if repos, _ := host.Repos(context.Background()); len(repos) != 0 {
		t.Fatalf("a dry run created repositories: %v", repos)
	}
	if len(cat.entities) != 0 || len(cat.events) != 0 {
		t.Fatalf("a dry run touched the catalog: %v %v", cat.entities, cat.events)
	}
	if _, err := acts.DryRun(context.Background(), in.Template, map[string]any{"name": "x"}, in.User, nil); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Fatalf("a missing parameter: %v", err)
	}
}

// TestAWorkerWithoutTheWorkspaceBuildsItAgain runs the example template as
// if publish:git landed on another worker than the fetch: the workspace is
// gone when publish starts, and the worker rebuilds it from the earlier
// steps before publishing all of it.
func TestAWorkerWithoutTheWorkspaceBuildsItAgain(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	in := goServiceInput(example(t), "moved")
	r.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "publish:git" {
			os.RemoveAll(filepath.Join(r.acts.WorkDir, in.ID))
			os.Remove(filepath.Join(r.acts.WorkDir, in.ID+".built"))
		}
	})
	st, err := r.run(t, in, nil)
	if err != nil {
		t.Fatalf("%v\n%+v", err, st.Log)
	}
	var rebuilt bool
	for _, l := range st.Log {
		rebuilt = rebuilt || (l.StepID == "publish" && strings.Contains(l.Message, "1 earlier workspace steps ran again"))
	}
	if !rebuilt {
		t.Fatalf("the log does not say the workspace was rebuilt: %+v", st.Log)
	}
	for _, f := range []string{"go.mod", "main.go", "catalog-info.yaml", ".github/workflows/ci.yaml"} {
		gitShow(t, r.host, "team-a", "moved", f)
	}
}

// TestPublishingOverAnExistingRepositoryFailsAtOnce runs the example
// template for a repository that already holds other commits: retrying
// cannot help, so the publish step runs once and the task's error says it
// is not retryable.
func TestPublishingOverAnExistingRepositoryFailsAtOnce(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	ctx := context.Background()
	repo, err := r.host.CreateRepo(ctx, "team-a", "taken", "main", "")
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "README.md"), []byte("# someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := githost.PublishDir(ctx, repo.RemoteURL, nil, other, "main", "theirs", ""); err != nil {
		t.Fatal(err)
	}
	st, err := r.run(t, goServiceInput(example(t), "taken"), nil)
	if err == nil {
		t.Fatal("publishing over an existing repository succeeded")
	}
	if st.Status != scaffolder.StatusFailed || st.FailedStep != "publish" {
		t.Fatalf("status %s, failed step %q", st.Status, st.FailedStep)
	}
	if r.runs["publish:git"] != 1 {
		t.Errorf("publish ran %d times; a repository that exists cannot be published to on a retry", r.runs["publish:git"])
	}
	if !strings.Contains(st.Error, "already has commits") || strings.Contains(st.Error, "retryable: true") || !strings.Contains(st.Error, "retryable: false") {
		t.Errorf("the task's error: %s", st.Error)
	}
}

// TestARegisterThatCannotSucceedFailsAtOnce runs the example template with
// a catalog that refuses the registration for a reason a retry cannot
// change: an entity another location registered after the task started
// (a conflict), or a target the catalog refuses. The register step runs
// once, and the task's error says it is not retryable. A store that does
// not answer is still retried (TestAFailedStepIsInTheLogAndRetryResumesFromIt).
func TestARegisterThatCannotSucceedFailsAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, repo string
		err        error
		errType    string
	}{
		{name: "duplicate entity", repo: "dup", errType: scaffolder.ConflictErrorType,
			err: fault.New(fault.Conflict, "url:x", "catalog-info.yaml component:default/dup: entity component:default/dup is already provided by another location")},
		{name: "invalid target", repo: "bad", errType: scaffolder.InputErrorType,
			err: fault.New(fault.Invalid, "url:x", "url:x is not a catalog file")},
		{name: "forbidden host", repo: "far", errType: scaffolder.InputErrorType,
			err: fault.New(fault.Forbidden, "url:x", "host example.org is not allowed")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			r := newRig(t, &s)
			r.cat.fail = tc.err
			st, err := r.run(t, goServiceInput(example(t), tc.repo), nil)
			if err == nil {
				t.Fatal("the task succeeded with the catalog refusing the registration")
			}
			if st.Status != scaffolder.StatusFailed || st.FailedStep != "register" {
				t.Fatalf("status %s, failed step %q", st.Status, st.FailedStep)
			}
			if r.runs["catalog:register"] != 1 {
				t.Errorf("catalog:register ran %d times; a retry cannot succeed", r.runs["catalog:register"])
			}
			if !strings.Contains(st.Error, tc.err.Error()) || strings.Contains(st.Error, "retryable: true") || !strings.Contains(st.Error, "retryable: false") ||
				!strings.Contains(st.Error, "type: "+tc.errType) {
				t.Errorf("the task's error: %s", st.Error)
			}
		})
	}
}
