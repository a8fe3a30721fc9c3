package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// leakyTemplateYAML logs a secret, outputs it from a step, and fails with
// it in the error.
const leakyTemplateYAML = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: leaky
spec:
  owner: group:default/team-a
  type: service
  steps:
    - id: say
      action: debug:log
      input:
        message: token ${{ secrets.token }}
    - id: notify
      action: notification:send
      input:
        title: hello
        entityRefs: ['user:default/${{ secrets.token }}']
    - id: fail
      action: fs:rename
      input:
        files:
          - from: ${{ secrets.token }}/missing
            to: x
  output:
    who: ${{ steps.notify.output.recipients[0] }}
`

// TestScaffoldSecretsStayMaskedEverywhere runs a task that logs a secret,
// outputs it from a step and fails with it in the error, against backlot
// dev: no API answer (the task, its log, the task list, a dry run, the
// audit log of events) and no event of the workflow's Temporal history,
// read through the SDK client, holds the value or its encodings.
func TestScaffoldSecretsStayMaskedEverywhere(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	tmpl := filepath.Join(root, "leaky", "template.yaml")
	if err := os.MkdirAll(filepath.Dir(tmpl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpl, []byte(leakyTemplateYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startWorkflowDev(t, bin, filepath.Join(root, "data"), "", tmpl)
	waitTotal(t, d.base, 2, 30*time.Second)
	const secret = "hunter2/Sekr1t+Value"
	forms := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret)), url.QueryEscape(secret), "Sekr1t"}

	body, _ := json.Marshal(map[string]any{"templateRef": "template:default/leaky", "values": map[string]any{}, "secrets": map[string]string{"token": secret}})
	resp, err := http.Post(d.base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.ID == "" {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(d.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		return string(raw)
	}
	var task string
	for deadline := time.Now().Add(60 * time.Second); ; {
		task = get("/api/scaffolder/v2/tasks/" + created.ID)
		if strings.Contains(task, `"status":"failed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task did not fail: %s", task)
		}
		time.Sleep(100 * time.Millisecond)
	}
	taskLog := get("/api/scaffolder/v2/tasks/" + created.ID + "/events")
	if !strings.Contains(taskLog, "token ***") || !strings.Contains(task, "***/missing") {
		t.Fatalf("the secret was not rendered and masked:\n%s\n%s", task, taskLog)
	}
	dry, _ := json.Marshal(map[string]any{"template": json.RawMessage(mustJSON(t, leakyTemplateYAML)), "values": map[string]any{}, "secrets": map[string]string{"token": secret}})
	resp, err = http.Post(d.base+"/api/scaffolder/v2/dry-run", "application/json", bytes.NewReader(dry))
	if err != nil {
		t.Fatal(err)
	}
	dryAnswer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answers := map[string]string{
		"the task": task, "the task log": taskLog, "the task list": get("/api/scaffolder/v2/tasks"),
		"the dry run": string(dryAnswer), "the event log": get("/api/audit/events?limit=1000"),
	}

	c, err := client.Dial(client.Options{HostPort: d.temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.GetWorkflow(ctx, created.ID, "").Get(ctx, nil)
	it := c.GetWorkflowHistory(ctx, created.ID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	hist, err := protojson.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(hist, []byte("ActivityTaskFailed")) && !bytes.Contains(hist, []byte("activityTaskFailedEventAttributes")) {
		t.Fatalf("the history has no failed activity: %d events", len(h.Events))
	}
	answers["the Temporal history"] = string(hist)
	for where, text := range answers {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("%s holds the secret as %q", where, f)
			}
		}
	}
}

// mustJSON converts a YAML document to JSON.
func mustJSON(t *testing.T, doc string) []byte {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
