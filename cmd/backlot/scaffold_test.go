package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"backlot.dev/backlot/internal/testenv/fixtures"
)

// testKey is the secrets codec key of the process tests, so the histories
// they record replay in workflows/scaffolder's tests.
var testKey = base64.StdEncoding.EncodeToString([]byte("backlot-replay-test-key-32-bytes"))

// workflowDev is a backlot dev process with a known Temporal address.
type workflowDev struct {
	cmd      *exec.Cmd
	base     string
	temporal string
	data     string
}

func startWorkflowDev(t *testing.T, bin, data, temporal string, catalogs ...string) *workflowDev {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	if temporal == "" {
		tp, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		temporal = "127.0.0.1:" + strconv.Itoa(tp)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"dev", "--quiet", "--data", data, "--addr", addr, "--refresh-interval", "1h", "--temporal-addr", temporal}
	for _, c := range catalogs {
		args = append(args, "--catalog", c)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BACKLOT_SECRETS_KEY="+testKey)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &workflowDev{cmd: cmd, base: "http://" + addr, temporal: temporal, data: data}
	t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(d.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlot dev did not get ready within 60s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// backlot runs the binary's client command against d and returns stdout.
func (d *workflowDev) backlot(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--url", d.base}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func gitShowFile(t *testing.T, repo, file string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", repo, "show", "main:"+file).CombinedOutput()
	if err != nil {
		t.Fatalf("git show %s in %s: %v: %s", file, repo, err, out)
	}
	return string(out)
}

func getEntity(t *testing.T, base, kind, name string) (map[string]any, int) {
	t.Helper()
	resp, err := http.Get(base + "/api/catalog/entities/by-name/" + kind + "/default/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e map[string]any
	json.NewDecoder(resp.Body).Decode(&e)
	return e, resp.StatusCode
}

// TestTemplatesRunEndToEndInDev runs the shared test templates
// (internal/testenv/fixtures) and the example template with `backlot scaffold
// run` against backlot dev: each repository holds its rendered files and its
// component is readable the moment the task ends.
func TestTemplatesRunEndToEndInDev(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	copyTree(t, fixtures.Template("gin-service"), filepath.Join(root, "gin-service"))
	copyTree(t, fixtures.Template("node-service"), filepath.Join(root, "node-service"))
	// The Gin template's skeleton reads values.destination, which its fetch
	// step never passes: Backstage's engine, which Backlot runs, renders the
	// annotation as "undefined/undefined". The copy passes destination; the
	// original is run too, and renders as Backstage renders it.
	copyTree(t, fixtures.Template("gin-service"), filepath.Join(root, "gin-service-as-is"))
	asIs := filepath.Join(root, "gin-service-as-is/template.yaml")
	raw, _ := os.ReadFile(asIs)
	os.WriteFile(asIs, []byte(strings.Replace(string(raw), "name: gin-service", "name: gin-service-as-is", 1)), 0o644)
	fixed := filepath.Join(root, "gin-service/template.yaml")
	raw, _ = os.ReadFile(fixed)
	os.WriteFile(fixed, []byte(strings.Replace(string(raw), "          port: ${{ parameters.port }}\n",
		"          port: ${{ parameters.port }}\n          destination: ${{ parameters.repoUrl | parseRepoUrl }}\n", 1)), 0o644)
	example, _ := filepath.Abs("../../examples/templates/go-service/template.yaml")
	d := startWorkflowDev(t, bin, filepath.Join(root, "data"), "",
		fixed, asIs, filepath.Join(root, "node-service/template.yaml"), example)
	waitTotal(t, d.base, 4+4, 30*time.Second) // four templates and their Location entities

	out, err := d.backlot(t, bin, "scaffold", "run", "gin-service-as-is", "--set", "component_id=as-is", "--set", "module=m", "--set", "owner=group:default/team-b",
		"--set", "repoUrl=github.com?owner=acme&repo=as-is")
	if err != nil || !strings.Contains(out, "component:default/as-is") {
		t.Fatalf("the template as it is: %v\n%s", err, out)
	}
	if e, status := getEntity(t, d.base, "component", "as-is"); status != 200 ||
		e["metadata"].(map[string]any)["annotations"].(map[string]any)["github.com/project-slug"] != "undefined/undefined" {
		t.Fatalf("the template as it is registered %d %v", status, e)
	}

	out, err = d.backlot(t, bin, "scaffold", "list")
	if err != nil || !strings.Contains(out, "template:default/gin-service") || !strings.Contains(out, "template:default/go-service") {
		t.Fatalf("scaffold list: %v\n%s", err, out)
	}
	cases := []struct {
		template, name string
		sets           []string
		files          map[string]string // file: text it must hold
	}{
		{"go-service", "payments", []string{"--secret=token=s3cr3t-e2e", "name=payments", "owner=group:default/team-a", "description=Takes payments", "port=9090", "repoUrl=local?owner=team-a&repo=payments"},
			map[string]string{"go.mod": "module example.com/team-a/payments", "main.go": `":9090"`, "README.md": "Takes payments", "catalog-info.yaml": `owner: "group:default/team-a"`, ".github/workflows/ci.yaml": "${{ github.sha }}"}},
		{"gin-service", "gin-api", []string{"component_id=gin-api", "module=github.com/acme/gin-api", "go_version=1.22", "owner=group:default/team-b", "repoUrl=github.com?owner=acme&repo=gin-api"},
			map[string]string{"catalog-info.yaml": `github.com/project-slug: acme/gin-api`}},
		{"node-service", "node-svc", []string{"name=node-svc", "repoUrl=github.com?owner=acme&repo=node-svc"},
			map[string]string{"package.json": `"name": "node-svc"`}},
	}
	for _, tc := range cases {
		args := []string{"scaffold", "run", tc.template}
		for _, s := range tc.sets {
			if strings.HasPrefix(s, "--") {
				args = append(args, s)
				continue
			}
			args = append(args, "--set", s)
		}
		start := time.Now()
		out, err := d.backlot(t, bin, args...)
		if err != nil {
			t.Fatalf("scaffold run %s: %v\n%s", tc.template, err, out)
		}
		took := time.Since(start)
		// Readable at once: no waiting for a projector or a refresh.
		e, status := getEntity(t, d.base, "component", tc.name)
		if status != http.StatusOK {
			t.Fatalf("%s: component %s answers %d right after the task", tc.template, tc.name, status)
		}
		src, _ := e["metadata"].(map[string]any)["annotations"].(map[string]any)["backstage.io/source-location"].(string)
		if !strings.HasPrefix(src, "url:file://") {
			t.Fatalf("%s: source-location %q", tc.template, src)
		}
		owner := "team-a"
		if tc.template != "go-service" {
			owner = "acme"
			if !strings.Contains(out, "published acme/"+tc.name+" to the local git host") {
				t.Fatalf("%s: the log does not say publish:github went to the local host:\n%s", tc.template, out)
			}
		}
		repo := filepath.Join(d.data, "repos", owner, tc.name+".git")
		for f, want := range tc.files {
			if got := gitShowFile(t, repo, f); !strings.Contains(got, want) {
				t.Fatalf("%s: %s lacks %q:\n%s", tc.template, f, want, got)
			}
		}
		t.Logf("%s: scaffold run to a readable component in %s", tc.template, took.Round(time.Millisecond))
	}
	// The notification step of the Node.js template is in its log.
	out, _ = d.backlot(t, bin, "scaffold", "tasks", "-o", "json")
	var tasks []map[string]any
	json.Unmarshal([]byte(out), &tasks)
	if len(tasks) != 4 {
		t.Fatalf("tasks %s", out)
	}
	// Each task's start and end are catalog events with the actor and the
	// template's version.
	var evs struct {
		Items []struct {
			Event struct {
				Type  string          `json:"type"`
				Actor string          `json:"actor"`
				Data  json.RawMessage `json:"data"`
			} `json:"event"`
		} `json:"items"`
	}
	resp, err := http.Get(d.base + "/api/audit/events?type=backlot.scaffolder.task.finished.v1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	if len(evs.Items) != 4 {
		t.Fatalf("%d task finished events, want 4", len(evs.Items))
	}
	for _, item := range evs.Items[1:] {
		ev := item.Event
		var fin struct {
			Status, TemplateVersion string
			Entities                []string
		}
		json.Unmarshal(ev.Data, &fin)
		if ev.Actor != "user:default/guest" || fin.Status != "completed" || len(fin.TemplateVersion) != 64 || len(fin.Entities) != 1 {
			t.Fatalf("finished event %s by %s", ev.Data, ev.Actor)
		}
	}
	recordHistories(t, d.temporal, "e2e")
}

// TestKillTheWorkerDuringATask kills backlot dev (server and worker) with
// SIGKILL while a task waits between publishing and registering, starts it
// again on the same data, and finds the task completed with exactly one
// repository, one commit and one catalog entity.
func TestKillTheWorkerDuringATask(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	example, _ := filepath.Abs("../../examples/templates/go-service")
	copyTree(t, example, filepath.Join(root, "slow"))
	tpl := filepath.Join(root, "slow/template.yaml")
	raw, _ := os.ReadFile(tpl)
	text := strings.Replace(string(raw), "name: go-service", "name: slow-service", 1)
	text = strings.Replace(text, "    - id: register\n", "    - id: pause\n      name: Wait a little\n      action: debug:wait\n      input:\n        seconds: 4\n    - id: register\n", 1)
	os.WriteFile(tpl, []byte(text), 0o644)
	data := filepath.Join(root, "data")
	d := startWorkflowDev(t, bin, data, "", tpl)
	waitTotal(t, d.base, 2, 30*time.Second)

	out, err := d.backlot(t, bin, "scaffold", "run", "slow-service", "--no-wait", "--set", "name=survivor", "--set", "owner=group:default/team-a", "--set", "repoUrl=local?owner=team-a&repo=survivor")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	id := strings.TrimSpace(out)
	// Kill once the task waits after publishing.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(d.base + "/api/scaffolder/v2/tasks/" + id + "/events")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "Waiting 4s") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the task never reached its wait")
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.cmd.Process.Kill()
	d.cmd.Wait()

	d2 := startWorkflowDev(t, bin, data, d.temporal, tpl)
	out, err = d2.backlot(t, bin, "scaffold", "logs", id)
	if err != nil {
		t.Fatalf("after the restart the task did not complete: %v\n%s", err, out)
	}
	if e, status := getEntity(t, d2.base, "component", "survivor"); status != http.StatusOK || e["spec"].(map[string]any)["owner"] != "group:default/team-a" {
		t.Fatalf("component: %d %v", status, e)
	}
	repos, _ := filepath.Glob(filepath.Join(data, "repos", "*", "*.git"))
	if len(repos) != 1 {
		t.Fatalf("repositories %v, want one", repos)
	}
	commits, err := exec.Command("git", "--git-dir", repos[0], "rev-list", "--count", "main").Output()
	if err != nil || strings.TrimSpace(string(commits)) != "1" {
		t.Fatalf("commits on main: %s %v", commits, err)
	}
	var locs []map[string]any
	resp, err := http.Get(d2.base + "/api/catalog/locations")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&locs)
	resp.Body.Close()
	var registered int
	for _, l := range locs {
		if strings.Contains(l["data"].(map[string]any)["target"].(string), "survivor.git") {
			registered++
		}
	}
	if registered != 1 {
		t.Fatalf("%d locations of the new repository, want 1: %v", registered, locs)
	}
	comps, _ := http.Get(d2.base + "/api/catalog/entities?filter=kind=component,metadata.name=survivor")
	var list []any
	json.NewDecoder(comps.Body).Decode(&list)
	comps.Body.Close()
	if len(list) != 1 {
		t.Fatalf("%d survivor components", len(list))
	}
	recordHistories(t, d2.temporal, "restart")
}

// recordHistories checks that no history holds a secret in clear, and writes the histories of the scaffolder workflows on the
// server at addr to workflows/scaffolder/testdata when BACKLOT_RECORD_HISTORIES
// is set, for the replay tests there. Either way it checks the stock
// client's view of them: listed by type and described as completed.
func recordHistories(t *testing.T, addr, prefix string) {
	t.Helper()
	recordHistoriesOf(t, addr, "scaffolder-task", "../../workflows/scaffolder/testdata", prefix)
}

// recordHistoriesOf is recordHistories for the workflows of type typ, written
// to dir.
func recordHistoriesOf(t *testing.T, addr, typ, dir, prefix string) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = '" + typ + "'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Executions) == 0 {
		t.Fatalf("no %s workflows listed", typ)
	}
	for i, e := range resp.Executions {
		// The task's state says completed before its workflow has recorded
		// the end and removed the workspace: wait for the workflow.
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_ = c.GetWorkflow(wctx, e.Execution.WorkflowId, e.Execution.RunId).Get(wctx, nil)
		cancel()
		d, err := c.DescribeWorkflowExecution(ctx, e.Execution.WorkflowId, e.Execution.RunId)
		if err != nil {
			t.Fatal(err)
		}
		e = d.WorkflowExecutionInfo
		if e.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED && e.Status != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED &&
			e.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			t.Fatalf("workflow %s is %s", e.Execution.WorkflowId, e.Status)
		}
		it := c.GetWorkflowHistory(ctx, e.Execution.WorkflowId, e.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var h historypb.History
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("s3cr3t")) {
			t.Fatalf("the history of %s holds a secret in clear", e.Execution.WorkflowId)
		}
		if os.Getenv("BACKLOT_RECORD_HISTORIES") == "" {
			continue
		}
		p := filepath.Join(dir, prefix+"-"+strconv.Itoa(i)+".history.json")
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
