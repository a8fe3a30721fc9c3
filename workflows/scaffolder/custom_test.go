package scaffolder_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
	"backlot.dev/backlot/workflows/scaffolder/customaction"
)

// shipped builds the shipped executables into dir/bin and copies
// actions/actions.yaml to dir/actions, so its ../bin commands find them.
var shipped struct {
	once sync.Once
	dir  string
	err  error
}

func shippedActions(t testing.TB) string {
	t.Helper()
	shipped.once.Do(func() {
		dir, err := os.MkdirTemp("", "backlot-shipped-actions-")
		if err != nil {
			shipped.err = err
			return
		}
		shipped.dir = dir
		for name, pkg := range map[string]string{"backlot-action-roadie": "roadie", "backlot-action-http-request": "httprequest"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", name), "../../actions/"+pkg).CombinedOutput()
			if err != nil {
				shipped.err = fmt.Errorf("go build %s: %v: %s", pkg, err, out)
				return
			}
		}
		raw, err := os.ReadFile("../../actions/actions.yaml")
		if err == nil {
			os.MkdirAll(filepath.Join(dir, "actions"), 0o755)
			err = os.WriteFile(filepath.Join(dir, "actions", "actions.yaml"), raw, 0o644)
		}
		shipped.err = err
	})
	if shipped.err != nil {
		t.Fatal(shipped.err)
	}
	return filepath.Join(shipped.dir, "actions", "actions.yaml")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shipped.dir != "" {
		os.RemoveAll(shipped.dir)
	}
	os.Exit(code)
}

// customRig is a rig whose activities know the shipped actions and the
// test's (testdata/custom/actions.yaml), with a bubblewrap sandbox, and a Go
// activity greet standing for the acme-actions task queue's worker.
func customRig(t *testing.T, s *testsuite.WorkflowTestSuite) (*rig, *[]scaffolder.ActionContext) {
	t.Helper()
	custom, err := customaction.Load(shippedActions(t), "testdata/custom/actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(context.Background(), sandbox.Config{ReadOnly: customaction.Dirs(custom)})
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, s, func(a *scaffolder.Activities) { a.Custom, a.Sandbox = custom, sb })
	// Each executable starts in a fresh sandbox: seconds on a busy machine.
	r.env.SetTestTimeout(2 * time.Minute)
	var mu sync.Mutex
	var calls []scaffolder.ActionContext
	r.env.RegisterActivityWithOptions(func(_ context.Context, in map[string]any, c scaffolder.ActionContext) (map[string]any, error) {
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		n, _ := in["times"].(float64)
		return map[string]any{"greeting": strings.Repeat("hello "+in["name"].(string)+"! ", int(n))}, nil
	}, activity.RegisterOptions{Name: "greet"})
	return r, &calls
}

func customTemplate(t *testing.T) scaffolder.TemplateInfo {
	t.Helper()
	p, err := filepath.Abs("testdata/custom/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return templateInfo(t, "template:default/custom-actions", p)
}

func customInput(info scaffolder.TemplateInfo, name, text string) scaffolder.TaskInput {
	in := goServiceInput(info, name)
	in.Parameters = map[string]any{"name": name, "text": text}
	return in
}

// TestCustomActionsRunInATask runs the shipped Roadie actions (Go
// executables), a Python executable and a Go activity of another task queue
// in one task: each output feeds the next step and the published repository
// holds what the executables wrote in the sandbox.
func TestCustomActionsRunInATask(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r, calls := customRig(t, &s)
	st, err := r.run(t, customInput(customTemplate(t), "ledger", "quiet words"), nil)
	if err != nil {
		t.Fatalf("task failed: %v\nlog: %+v", err, st.Log)
	}
	if st.Output["shouted"] != "QUIET WORDS" || st.Output["greeting"] != "hello QUIET WORDS! hello QUIET WORDS! " {
		t.Fatalf("output %v", st.Output)
	}
	if got := gitShow(t, r.host, "team-a", "ledger", "docs/NOTES.md"); got != "# ledger\nOwned by team-a.\n" {
		t.Fatalf("NOTES.md %q", got)
	}
	var pkg map[string]any
	if err := json.Unmarshal([]byte(gitShow(t, r.host, "team-a", "ledger", "package.json")), &pkg); err != nil ||
		pkg["name"] != "ledger" || pkg["scripts"].(map[string]any)["test"] != "go test ./..." {
		t.Fatalf("package.json %v %v", pkg, err)
	}
	if got := gitShow(t, r.host, "team-a", "ledger", "SHOUT.txt"); got != "QUIET WORDS\n" {
		t.Fatalf("SHOUT.txt %q", got)
	}
	zr, err := zip.NewReader(strings.NewReader(gitShow(t, r.host, "team-a", "ledger", "dist/docs.zip")), int64(len(gitShow(t, r.host, "team-a", "ledger", "dist/docs.zip"))))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "docs/NOTES.md" {
		t.Fatalf("docs.zip: %v %v", err, zr)
	}
	if len(*calls) != 1 || (*calls)[0].StepID != "greet" || (*calls)[0].TaskID != "task-ledger" || (*calls)[0].UserRef != "user:default/ada" {
		t.Fatalf("greet's context %+v", *calls)
	}
	var log strings.Builder
	for _, l := range st.Log {
		log.WriteString(l.Message + "\n")
	}
	for _, want := range []string{"shouted 11 characters", "Appended to docs/NOTES.md", "Ran activity greet on task queue acme-actions"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestCustomActionInputsAreCheckedBeforeTheStepRuns fails a task whose
// custom step's input breaks the action's schema, naming the step, the
// action and the field, before the program or the activity runs.
func TestCustomActionInputsAreCheckedBeforeTheStepRuns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text string
		want       []string
		ran        string
	}{
		{"executable input", "", []string{"steps.shout.input.text", "acme:shout"}, ""},
		{"executable fails", "fail", []string{"steps.shout", "acme:shout", "refusing to shout fail"}, "acme:shout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			r, calls := customRig(t, &s)
			st, err := r.run(t, customInput(customTemplate(t), "ledger", c.text), nil)
			if err == nil {
				t.Fatalf("task completed: %+v", st.Output)
			}
			for _, w := range c.want {
				if !strings.Contains(st.Error, w) {
					t.Errorf("error %q lacks %q", st.Error, w)
				}
			}
			if st.FailedStep != "shout" || len(*calls) != 0 {
				t.Fatalf("failed step %q, greet calls %d", st.FailedStep, len(*calls))
			}
			// The program ran only when its input was good: then its stderr
			// is in the log.
			ranProgram := false
			for _, l := range st.Log {
				ranProgram = ranProgram || strings.Contains(l.Message, "shout: refusing")
			}
			if ranProgram != (c.ran != "") || r.runs["acme:shout"] != 1 {
				t.Fatalf("program ran %t; activity ran %d times (want once: not retried)", ranProgram, r.runs["acme:shout"])
			}
		})
	}
}

// TestCustomActivityInputIsCheckedAndKeepsSecretsOut refuses a Temporal
// activity's input that breaks its schema, and one that carries a secret
// (its input would sit in Temporal's history in clear).
func TestCustomActivityInputIsCheckedAndKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	body := func(name, times string) string {
		return `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"greet"},"spec":{"owner":"group:default/team-a","type":"service",
"steps":[{"id":"greet","action":"acme:greet","input":{"name":` + name + `,"times":` + times + `}}]}}`
	}
	cases := []struct {
		name, body string
		want       []string
	}{
		{"schema", body(`"ada"`, `0`), []string{"steps.greet.input.times", "acme:greet", "minimum"}},
		{"secret", body(`"${{ secrets.token }}"`, `1`), []string{"steps.greet.input", "holds a secret", "acme-actions"}},
		{"unknown", strings.Replace(body(`"ada"`, `1`), "acme:greet", "acme:nope", 1), []string{"steps.greet.action", "acme:nope"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			r, calls := customRig(t, &s)
			in := scaffolder.TaskInput{ID: "task-greet", User: scaffolder.UserInfo{Ref: "user:default/ada"},
				Template: scaffolder.TemplateInfo{Ref: "template:default/greet", Version: "v1", Body: json.RawMessage(c.body)}}
			st, err := r.run(t, in, scaffolder.Secrets{"token": "s3cret-t0ken"})
			if err == nil {
				t.Fatalf("task completed: %+v", st.Output)
			}
			for _, w := range c.want {
				if !strings.Contains(st.Error, w) {
					t.Errorf("error %q lacks %q", st.Error, w)
				}
			}
			if strings.Contains(st.Error, "s3cret-t0ken") || len(*calls) != 0 {
				t.Fatalf("error %q; greet ran %d times", st.Error, len(*calls))
			}
		})
	}
}

// TestCustomActionsAreListedAndChecked lists the custom actions after the
// built-in ones with their schemas, and refuses registrations that cannot
// work, naming the file, the action and the field.
func TestCustomActionsAreListedAndChecked(t *testing.T) {
	t.Parallel()
	custom, err := customaction.Load(shippedActions(t), "testdata/custom/actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	acts := (&scaffolder.Activities{Custom: custom}).Described()
	byID := map[string]scaffolder.Action{}
	for _, a := range acts {
		byID[a.ID] = a
	}
	for _, id := range []string{"publish:git", "roadiehq:utils:fs:append", "roadiehq:utils:fs:write", "roadiehq:utils:json:merge", "roadiehq:utils:zip", "http:backstage:request", "acme:shout", "acme:greet"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("%s is not listed", id)
		}
	}
	raw, _ := json.Marshal(byID["acme:greet"])
	if !strings.Contains(string(raw), `"required":["name"]`) || !strings.Contains(string(raw), `"output":{`) {
		t.Fatalf("acme:greet listed as %s", raw)
	}
	if err := (&scaffolder.Activities{}).Check(&scaffolder.Template{Ref: "t", Steps: []scaffolder.Step{{ID: "s", Action: "acme:shout"}}}); err == nil {
		t.Fatal("a deployment without custom actions accepts acme:shout")
	}
	bad := []struct{ name, file, want string }{
		{"builtin id", "actions: [{id: publish:git, command: [x]}]", "actions[0] (publish:git).id"},
		{"both kinds", "actions: [{id: a:b, command: [x], taskQueue: q, activityType: t}]", "both a command and a task queue"},
		{"neither kind", "actions: [{id: a:b}]", "give a command"},
		{"bad schema", "actions: [{id: a:b, command: [x], schema: {input: {type: 7}}}]", "actions[0] (a:b).schema.input"},
		{"bad timeout", "actions: [{id: a:b, command: [x], timeout: soon}]", "actions[0] (a:b).timeout"},
		{"unknown field", "actions: [{id: a:b, command: [x], netwrok: true}]", "netwrok"},
		{"activity secrets", "actions: [{id: a:b, taskQueue: q, activityType: t, secrets: [x]}]", "apply to executables"},
	}
	for _, b := range bad {
		p := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(p, []byte(b.file), 0o644)
		_, err := customaction.Load(p)
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %q and the file", b.name, err, b.want)
		}
	}
}

// TestCustomActionsInADryRun checks every custom step's input in a dry run
// and runs none: a dry run runs in the API's process, and user code runs
// only on workers.
func TestCustomActionsInADryRun(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r, calls := customRig(t, &s)
	res, err := r.acts.DryRun(context.Background(), customTemplate(t), map[string]any{"name": "ledger", "text": "hi"}, scaffolder.UserInfo{Ref: "user:default/ada"}, nil)
	if err != nil {
		t.Fatalf("dry run: %v %+v", err, res.Log)
	}
	if len(res.DirectoryContents) != 0 || len(*calls) != 0 {
		t.Fatalf("files %v, greet calls %d", res.DirectoryContents, len(*calls))
	}
	var log strings.Builder
	for _, l := range res.Log {
		log.WriteString(l.Message + "\n")
	}
	for _, want := range []string{"would run backlot-action-roadie", "would run shout.py", "would run activity greet on task queue acme-actions"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("dry-run log lacks %q:\n%s", want, log.String())
		}
	}
	// A bad input fails the preview, naming the field.
	_, err = r.acts.DryRun(context.Background(), customTemplate(t), map[string]any{"name": "ledger", "text": ""}, scaffolder.UserInfo{Ref: "user:default/ada"}, nil)
	if err == nil || !strings.Contains(err.Error(), "steps.shout.input.text") {
		t.Fatalf("dry run with an empty text: %v", err)
	}
}
