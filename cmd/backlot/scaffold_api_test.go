package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const gatedTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated-service
spec:
  owner: group:default/platform
  type: service
  parameters:
    - required: [name]
      properties:
        name: {type: string, pattern: '^[a-z][a-z0-9-]+$'}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: '${{ parameters.name }}'}
    - id: approve
      action: backlot:approval
      # backlot dev's guest creates the task and decides it: the step lets
      # the creator decide, and, naming no approvers, the platform group
      # (the guest's) decides it.
      input: {message: 'Create ${{ parameters.name }}?', selfApproval: true}
    - id: extra
      name: Add the extra files
      action: fetch:plain
      input: {url: ./extra, targetPath: extra}
    - id: publish
      action: publish:git
      input: {repoUrl: 'local?owner=team-a&repo=${{ parameters.name }}'}
    - id: register
      action: catalog:register
      input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}
  output:
    links:
      - {title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}
`

const gatedSkeleton = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name | dump }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: group:default/team-a\n"

func apiCall(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type apiTask struct {
	Status  string `json:"status"`
	Waiting *struct {
		StepID string `json:"stepId"`
	} `json:"waiting"`
	Error *struct {
		Message string `json:"message"`
		Step    string `json:"step"`
	} `json:"error"`
	Attempt int `json:"attempt"`
}

func waitTask(t *testing.T, base, id string, done func(apiTask) bool) apiTask {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var tk apiTask
		apiCall(t, http.MethodGet, base+"/api/scaffolder/v2/tasks/"+id, nil, &tk)
		if done(tk) {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: %+v", id, tk)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScaffolderAPI drives Backstage's scaffolder API of backlot dev: a task
// that waits for approval, fails at a step, is retried from that step and
// completes, followed through the SSE event stream; a task cancelled while
// it waits; the actions, a dry run with skeleton files, and errors that name
// the field.
func TestScaffolderAPI(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	dir := filepath.Join(root, "gated")
	os.MkdirAll(filepath.Join(dir, "skeleton"), 0o755)
	os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(gatedTemplate), 0o644)
	os.WriteFile(filepath.Join(dir, "skeleton", "catalog-info.yaml"), []byte(gatedSkeleton), 0o644)
	d := startWorkflowDev(t, bin, filepath.Join(root, "data"), "", filepath.Join(dir, "template.yaml"))
	waitTotal(t, d.base, 2, 30*time.Second)
	api := d.base + "/api/scaffolder/v2"

	var actions []struct{ ID string }
	apiCall(t, http.MethodGet, api+"/actions", nil, &actions)
	var ids []string
	for _, a := range actions {
		ids = append(ids, a.ID)
	}
	for _, want := range []string{"fetch:template", "fetch:plain", "fs:rename", "fs:delete", "publish:git", "publish:github", "publish:gitlab", "catalog:register", "catalog:write", "debug:log", "backlot:approval"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Fatalf("actions %v lack %s", ids, want)
		}
	}
	var apiErr struct {
		Error struct{ Name, Message string } `json:"error"`
	}
	if status := apiCall(t, http.MethodPost, api+"/tasks", map[string]any{"templateRef": "template:default/gated-service", "values": map[string]any{"name": "Bad Name"}}, &apiErr); status != 400 || !strings.Contains(apiErr.Error.Message, "parameters.name") {
		t.Fatalf("a bad value: %d %+v", status, apiErr)
	}
	if status := apiCall(t, http.MethodGet, api+"/templates/default/template/nope/parameter-schema", nil, &apiErr); status != 400 && status != 404 {
		t.Fatalf("an unknown template: %d", status)
	}

	var created struct{ ID string }
	if status := apiCall(t, http.MethodPost, api+"/tasks", map[string]any{"templateRef": "template:default/gated-service", "values": map[string]any{"name": "gated"}}, &created); status != 201 {
		t.Fatalf("create: %d", status)
	}
	tk := waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Waiting != nil })
	if tk.Waiting.StepID != "approve" {
		t.Fatalf("waiting %+v", tk.Waiting)
	}
	if status := apiCall(t, http.MethodPost, api+"/tasks/"+created.ID+"/approval", map[string]any{"approved": true, "comment": "go"}, nil); status != 200 {
		t.Fatalf("approve: %d", status)
	}
	tk = waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Status == "failed" })
	if tk.Error == nil || tk.Error.Step != "extra" || !strings.Contains(tk.Error.Message, "extra") {
		t.Fatalf("failed task %+v", tk)
	}
	// Fix what failed, and retry from there.
	os.MkdirAll(filepath.Join(dir, "extra"), 0o755)
	os.WriteFile(filepath.Join(dir, "extra", "NOTES.md"), []byte("notes\n"), 0o644)
	if status := apiCall(t, http.MethodPost, api+"/tasks/"+created.ID+"/retry", nil, nil); status != 201 {
		t.Fatalf("retry: %d", status)
	}
	resp, err := http.Get(api + "/tasks/" + created.ID + "/eventstream")
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	var completion map[string]any
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct {
				Body map[string]any `json:"body"`
			}
			json.Unmarshal([]byte(v), &ev)
			if event == "completion" {
				completion = ev.Body
				break
			}
			log = append(log, ev.Body["message"].(string))
		}
	}
	resp.Body.Close()
	text := strings.Join(log, "\n")
	if completion == nil || completion["status"] != "completed" {
		t.Fatalf("completion %v\n%s", completion, text)
	}
	if strings.Count(text, "approve or reject the task") != 1 || !strings.Contains(text, "Retrying the task (attempt 2)") || !strings.Contains(text, "Step extra failed") {
		t.Fatalf("log after the retry:\n%s", text)
	}
	if e, status := getEntity(t, d.base, "component", "gated"); status != 200 || e["metadata"].(map[string]any)["name"] != "gated" {
		t.Fatalf("component after the retry: %d", status)
	}
	if got := gitShowFile(t, filepath.Join(d.data, "repos/team-a/gated.git"), "extra/NOTES.md"); got != "notes\n" {
		t.Fatalf("NOTES.md %q", got)
	}
	// The entity's first version carries the task's id as its correlation.
	var hist struct {
		Items []struct {
			CorrelationID string `json:"correlationId"`
		} `json:"items"`
	}
	apiCall(t, http.MethodGet, d.base+"/api/audit/entities/component/default/gated/history", nil, &hist)
	if len(hist.Items) == 0 || hist.Items[0].CorrelationID != created.ID {
		t.Fatalf("history %+v, want correlation %s", hist.Items, created.ID)
	}

	// The task's id gathers, in the log, who ran which template version and
	// what it registered.
	var corr struct {
		Items []struct {
			Event struct {
				Type    string `json:"type"`
				Actor   string `json:"actor"`
				Subject string `json:"subject"`
			} `json:"event"`
		} `json:"items"`
	}
	apiCall(t, http.MethodGet, d.base+"/api/audit/events?correlation="+created.ID, nil, &corr)
	var seen []string
	for _, it := range corr.Items {
		seen = append(seen, it.Event.Type+" "+it.Event.Subject+" by "+it.Event.Actor)
	}
	got := strings.Join(seen, "\n")
	for _, want := range []string{"backlot.scaffolder.task.started.v1 task:" + created.ID + " by user:default/guest",
		"backlot.location.registered.v1", "by user:default/guest", "backlot.entity.upserted.v1 component:default/gated",
		"backlot.scaffolder.task.finished.v1 task:" + created.ID} {
		if !strings.Contains(got, want) {
			t.Fatalf("events of the task lack %q:\n%s", want, got)
		}
	}

	// Cancelled while it waits.
	apiCall(t, http.MethodPost, api+"/tasks", map[string]any{"templateRef": "template:default/gated-service", "values": map[string]any{"name": "never"}}, &created)
	waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Waiting != nil })
	if status := apiCall(t, http.MethodPost, api+"/tasks/"+created.ID+"/cancel", nil, nil); status != 200 {
		t.Fatalf("cancel: %d", status)
	}
	waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Status == "cancelled" })
	if _, err := os.Stat(filepath.Join(d.data, "repos/team-a/never.git")); !os.IsNotExist(err) {
		t.Fatal("a cancelled task published its repository")
	}
	// Retried as soon as it reads cancelled, while its run still records
	// its end: the retry is a new run that waits again, not the ending run.
	if status := apiCall(t, http.MethodPost, api+"/tasks/"+created.ID+"/retry", nil, nil); status != 201 {
		t.Fatalf("retry of the cancelled task: %d", status)
	}
	if tk := waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Waiting != nil }); tk.Attempt != 2 {
		t.Fatalf("the cancelled task after its retry: %+v, want attempt 2 waiting for its approval", tk)
	}
	if status := apiCall(t, http.MethodPost, api+"/tasks/"+created.ID+"/cancel", nil, nil); status != 200 {
		t.Fatalf("cancel of the retried task: %d", status)
	}
	waitTask(t, d.base, created.ID, func(tk apiTask) bool { return tk.Status == "cancelled" })

	// A dry run of a template body and its skeleton, changing nothing.
	tpl, _ := os.ReadFile(filepath.Join(dir, "template.yaml"))
	var body any
	if err := yamlToAny(tpl, &body); err != nil {
		t.Fatal(err)
	}
	var dry struct {
		DirectoryContents []struct{ Path, Base64Content string } `json:"directoryContents"`
		Log               []struct {
			Body struct{ Message string } `json:"body"`
		} `json:"log"`
	}
	status := apiCall(t, http.MethodPost, api+"/dry-run", map[string]any{"template": body, "values": map[string]any{"name": "preview"},
		"directoryContents": []map[string]any{
			{"path": "skeleton/catalog-info.yaml", "base64Content": base64.StdEncoding.EncodeToString([]byte(gatedSkeleton))},
			{"path": "extra/NOTES.md", "base64Content": base64.StdEncoding.EncodeToString([]byte("notes\n"))}}}, &dry)
	if status != 200 || len(dry.DirectoryContents) != 2 {
		t.Fatalf("dry run: %d %+v", status, dry)
	}
	rendered, _ := base64.StdEncoding.DecodeString(dry.DirectoryContents[0].Base64Content)
	if !strings.Contains(string(rendered), `name: "preview"`) {
		t.Fatalf("dry run rendered %q", rendered)
	}
	if _, err := os.Stat(filepath.Join(d.data, "repos/team-a/preview.git")); !os.IsNotExist(err) {
		t.Fatal("a dry run published a repository")
	}
}

// yamlToAny reads YAML into JSON-shaped values.
func yamlToAny(raw []byte, out *any) error { return yaml.Unmarshal(raw, out) }
