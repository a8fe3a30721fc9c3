package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// customActionsFile registers, for the end-to-end test, an activity of the
// TypeScript SDK and one of the Go SDK, each on a task queue of its own,
// beside the shipped executables (actions/actions.yaml, loaded too).
const customActionsFile = `actions:
  - id: acme:shout:ts
    description: Shouts, in TypeScript (a worker of @temporalio/worker)
    taskQueue: acme-typescript
    activityType: shoutInTypeScript
    schema:
      input:
        type: object
        required: [text]
        properties:
          text: {type: string}
          exclamations: {type: integer, minimum: 1, maximum: 5}
      output:
        type: object
        required: [shouted]
        properties:
          shouted: {type: string}
          by: {type: string}
  - id: acme:count:go
    description: Counts words, in Go (a worker of the Go SDK in the test process)
    taskQueue: acme-go
    activityType: countWords
    schema:
      input:
        type: object
        required: [text]
        properties:
          text: {type: string}
      output:
        type: object
        required: [words]
        properties:
          words: {type: integer}
`

const customActionsTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: custom-actions
spec:
  owner: group:default/team-a
  type: service
  parameters:
    - required: [name, text]
      properties:
        name: {type: string}
        text: {type: string}
  steps:
    - id: shout
      action: acme:shout:ts
      input: {text: '${{ parameters.text }}', exclamations: 3}
    - id: count
      action: acme:count:go
      input: {text: '${{ steps.shout.output.shouted }}'}
    - id: write
      action: roadiehq:utils:fs:write
      input:
        path: SHOUT.md
        content: '${{ steps.shout.output.shouted }} (${{ steps.count.output.words }} words, ${{ steps.shout.output.by }})'
    - id: lookup
      action: http:backstage:request
      input:
        method: GET
        path: /catalog/entities/by-name/template/default/custom-actions
    - id: merge
      action: roadiehq:utils:json:merge
      input:
        path: info.json
        content: {template: '${{ steps.lookup.output.body.metadata.name }}', status: '${{ steps.lookup.output.code }}'}
    - id: publish
      action: publish:git
      input: {repoUrl: 'local?owner=team-a&repo=${{ parameters.name }}'}
  output:
    shouted: '${{ steps.shout.output.shouted }}'
    words: '${{ steps.count.output.words }}'
`

// TestCustomActionsOfOtherSDKsRunInADevTask runs a task in backlot dev whose
// steps are a Temporal activity written with the TypeScript SDK (a node
// worker from npm on its own task queue), one written with the Go SDK on
// another, and the shipped executables (Roadie file actions, and
// http:backstage:request calling dev's API from the sandbox through the
// guarded dialer). The published repository holds what each step made.
func TestCustomActionsOfOtherSDKsRunInADevTask(t *testing.T) {
	if _, err := os.Stat("testdata/tsworker/node_modules/@temporalio/worker"); err != nil {
		t.Fatalf("the TypeScript worker's packages are missing (scripts/test.sh runs npm ci in cmd/backlot/testdata/tsworker): %v", err)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	// The shipped executables, built beside a copy of their registration.
	for name, pkg := range map[string]string{"backlot-action-roadie": "roadie", "backlot-action-http-request": "httprequest"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", name), "../../actions/"+pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v: %s", pkg, err, out)
		}
	}
	os.MkdirAll(filepath.Join(dir, "actions"), 0o755)
	raw, err := os.ReadFile("../../actions/actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "actions", "actions.yaml"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte(customActionsFile), 0o644)
	os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(customActionsTemplate), 0o644)

	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	tport, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr, temporal := "127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:"+strconv.Itoa(tport)
	base := "http://" + addr
	dev := exec.Command(bin, "dev", "--quiet", "--data", filepath.Join(dir, "data"), "--addr", addr, "--refresh-interval", "1h",
		"--temporal-addr", temporal, "--catalog", filepath.Join(dir, "template.yaml"),
		"--custom-actions", filepath.Join(dir, "actions", "actions.yaml"), "--custom-actions", filepath.Join(dir, "acme.yaml"))
	dev.Env = append(os.Environ(), "BACKLOT_SECRETS_KEY="+testKey)
	dev.Stderr = os.Stderr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Process.Kill(); dev.Wait() })
	waitReady(t, base)

	// The TypeScript worker, from npm.
	ts := exec.Command("node", "worker.js")
	ts.Dir = "testdata/tsworker"
	ts.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+temporal, "TASK_QUEUE=acme-typescript")
	ts.Stderr = os.Stderr
	out, _ := ts.StdoutPipe()
	if err := ts.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Process.Kill(); ts.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "worker ready") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		t.Fatal("the TypeScript worker did not start within 90s")
	}

	// The Go worker, in this process.
	c, err := client.Dial(client.Options{HostPort: temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "acme-go", worker.Options{})
	w.RegisterActivityWithOptions(func(_ context.Context, in map[string]any, _ map[string]any) (map[string]any, error) {
		return map[string]any{"words": len(strings.Fields(in["text"].(string)))}, nil
	}, activity.RegisterOptions{Name: "countWords"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	// GET /v2/actions lists the custom actions with their schemas.
	var acts []struct {
		ID     string         `json:"id"`
		Schema map[string]any `json:"schema"`
	}
	apiCall(t, http.MethodGet, base+"/api/scaffolder/v2/actions", nil, &acts)
	listed := map[string]map[string]any{}
	for _, a := range acts {
		listed[a.ID] = a.Schema
	}
	for _, id := range []string{"acme:shout:ts", "acme:count:go", "roadiehq:utils:fs:write", "http:backstage:request", "publish:git"} {
		if listed[id] == nil {
			t.Fatalf("GET /v2/actions does not list %s with a schema: %v", id, listed[id])
		}
	}
	if _, ok := listed["acme:shout:ts"]["output"]; !ok {
		t.Fatalf("acme:shout:ts lists no output schema: %v", listed["acme:shout:ts"])
	}

	var created struct {
		ID string `json:"id"`
	}
	code := apiCall(t, http.MethodPost, base+"/api/scaffolder/v2/tasks", map[string]any{
		"templateRef": "template:default/custom-actions", "values": map[string]any{"name": "shouty", "text": "make it loud"}}, &created)
	if code != http.StatusCreated {
		t.Fatalf("create task: %d", code)
	}
	tk := waitTask(t, base, created.ID, func(tk apiTask) bool { return tk.Status == "completed" || tk.Status == "failed" })
	if tk.Status != "completed" {
		t.Fatalf("task: %+v", tk.Error)
	}
	var full struct {
		Output map[string]any `json:"output"`
	}
	apiCall(t, http.MethodGet, base+"/api/scaffolder/v2/tasks/"+created.ID, nil, &full)
	if full.Output["shouted"] != "MAKE IT LOUD!!!" || full.Output["words"] != float64(3) {
		t.Fatalf("output %v", full.Output)
	}
	repo := filepath.Join(dir, "data", "git", "team-a", "shouty.git")
	if _, err := os.Stat(repo); err != nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "data", "*", "team-a", "shouty.git"))
		if len(matches) != 1 {
			t.Fatalf("no repository team-a/shouty under %s", filepath.Join(dir, "data"))
		}
		repo = matches[0]
	}
	if got := gitShowFile(t, repo, "SHOUT.md"); !strings.HasPrefix(got, "MAKE IT LOUD!!! (3 words, typescript for user:") {
		t.Fatalf("SHOUT.md %q", got)
	}
	if got := gitShowFile(t, repo, "info.json"); !strings.Contains(got, `"template": "custom-actions"`) || !strings.Contains(got, `"status": "200"`) {
		t.Fatalf("info.json %q", got)
	}
}

// waitReady waits until base answers /readyz.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlot dev did not get ready within 60s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
