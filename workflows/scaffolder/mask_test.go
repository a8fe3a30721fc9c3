package scaffolder_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"backlot.dev/backlot/workflows/scaffolder"
)

// leakyTemplate logs a secret, outputs it from a step and puts it in a
// failing step's error.
func leakyTemplate(t *testing.T) scaffolder.TemplateInfo {
	t.Helper()
	body := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"leaky"},
	"spec":{"steps":[
	{"id":"say","action":"debug:log","input":{"message":"token ${{ secrets.token }}, encoded ${{ secrets.token | dump }}"}},
	{"id":"notify","action":"notification:send","input":{"title":"t","entityRefs":["user:default/${{ secrets.token }}"]}},
	{"id":"show","action":"debug:log","input":{"message":"earlier output ${{ steps.notify.output.recipients[0] }}"}},
	{"id":"fail","action":"fs:rename","input":{"files":[{"from":"${{ secrets.token }}/missing","to":"x"}]}}],
	"output":{"who":"${{ steps.notify.output.recipients[0] }}"}}}`
	return scaffolder.TemplateInfo{Ref: "template:default/leaky", Version: "v1", Location: "file:" + t.TempDir() + "/t.yaml", Body: json.RawMessage(body)}
}

// secretForms are a secret and its encodings, as a test looks for them.
func secretForms(s string) []string {
	return []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)), url.QueryEscape(s)}
}

// TestSecretsAreMaskedInTheLogOutputsErrorsAndEvents runs a task that logs
// a secret, outputs it from a step and fails with it in the error: the
// task's state, its error and the catalog's events hold only ***.
func TestSecretsAreMaskedInTheLogOutputsErrorsAndEvents(t *testing.T) {
	t.Parallel()
	const secret = "hunter2/s3cr3t+value"
	var s testsuite.WorkflowTestSuite
	r := newRig(t, &s)
	st, err := r.run(t, scaffolder.TaskInput{ID: "leaky", Template: leakyTemplate(t), User: scaffolder.UserInfo{Ref: "user:default/ada"}},
		scaffolder.Secrets{"token": secret, "short": "abc"})
	if err == nil {
		t.Fatal("the fail step did not fail")
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("not an application error: %v", err)
	}
	state, _ := json.Marshal(st)
	var events bytes.Buffer
	for _, e := range r.cat.events {
		events.Write(e.Data)
	}
	if !strings.Contains(string(state), "token ***") || !strings.Contains(st.Error, "***/missing") {
		t.Fatalf("the secret was not rendered and masked: %s", state)
	}
	for _, f := range secretForms(secret) {
		for where, text := range map[string]string{"the state": string(state), "the error": err.Error(), "the events": events.String()} {
			if strings.Contains(text, f) {
				t.Errorf("%s holds the secret as %q: %s", where, f, text)
			}
		}
	}
}

func TestMaskerHidesEveryForm(t *testing.T) {
	t.Parallel()
	m := scaffolder.NewMasker(scaffolder.Secrets{"a": "p@ss word", "b": "abc"})
	for _, f := range secretForms("p@ss word") {
		if got := m.String("x " + f + " y"); got != "x *** y" {
			t.Errorf("%q masked to %q", f, got)
		}
	}
	if got := m.String("abc"); got != "abc" {
		t.Errorf("a secret shorter than %d was masked: %q", scaffolder.MinSecretLength, got)
	}
	out := m.Map(map[string]any{"k": []any{"p@ss word", int64(1), map[string]any{"n": "p@ss word!"}}})
	if j, _ := json.Marshal(out); string(j) != `{"k":["***",1,{"n":"***!"}]}` {
		t.Errorf("outputs masked to %s", j)
	}
	orig := temporal.NewNonRetryableApplicationError("step x: p@ss word", scaffolder.InputErrorType, nil)
	var ae *temporal.ApplicationError
	if err := m.Error(orig); !errors.As(err, &ae) || ae.Message() != "step x: ***" || !ae.NonRetryable() || ae.Type() != scaffolder.InputErrorType {
		t.Errorf("error masked to %v", err)
	}
	clean := errors.New("nothing secret")
	if m.Error(clean) != clean {
		t.Error("an error without a secret was replaced")
	}
}

// TestADryRunMasksSecrets previews the leaky template: its log, outputs
// and error hold only ***.
func TestADryRunMasksSecrets(t *testing.T) {
	t.Parallel()
	const secret = "hunter2/s3cr3t+value"
	acts := &scaffolder.Activities{WorkDir: t.TempDir()}
	res, err := acts.DryRun(context.Background(), leakyTemplate(t), nil, scaffolder.UserInfo{Ref: "user:default/ada"}, scaffolder.Secrets{"token": secret})
	if err == nil || !strings.Contains(err.Error(), "***/missing") {
		t.Fatalf("the fail step: %v", err)
	}
	answer, _ := json.Marshal(res)
	if !strings.Contains(string(answer), "token ***") || !strings.Contains(string(answer), "earlier output user:default/***") {
		t.Fatalf("the secret was not rendered and masked: %s", answer)
	}
	for _, f := range secretForms(secret) {
		if strings.Contains(string(answer), f) || strings.Contains(err.Error(), f) {
			t.Errorf("the dry run holds the secret as %q: %s %v", f, answer, err)
		}
	}
}
