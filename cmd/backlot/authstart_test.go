package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/auth"
)

// runRoot runs the backlot command with args in this process and returns
// its output and error.
func runRoot(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestServeRefusesToStartWithoutAnAuthenticator: serve (with the api role)
// and dev on an address other than loopback stop before opening anything and
// name the flags; --insecure-no-auth, its environment variable, a token file
// or roles without the api get past the check (to the missing brokers or
// Temporal).
func TestServeRefusesToStartWithoutAnAuthenticator(t *testing.T) {
	for _, env := range []string{"BACKLOT_KAFKA_BROKERS", "BACKLOT_AUTH_TOKENS", "BACKLOT_INSECURE_NO_AUTH", "BACKLOT_ROLES", "BACKLOT_ADDR"} {
		t.Setenv(env, "")
	}
	refused := func(err error) bool {
		return err != nil && strings.Contains(err.Error(), "refuses to start without an authenticator") &&
			strings.Contains(err.Error(), "--auth-tokens") && strings.Contains(err.Error(), "--insecure-no-auth")
	}
	tokens := filepath.Join(t.TempDir(), "tokens")
	line, _ := auth.HashLine("ci-0123456789abcdef", "service:ci")
	os.WriteFile(tokens, []byte(line+"\n"), 0o600)
	for _, c := range []struct {
		args    []string
		refused bool
	}{
		{[]string{"serve"}, true},
		{[]string{"serve", "--roles", "api,projector", "--addr", "127.0.0.1:0"}, true},
		{[]string{"dev", "--addr", "0.0.0.0:0", "--data", t.TempDir()}, true},
		{[]string{"dev", "--addr", ":0", "--data", t.TempDir()}, true},
		{[]string{"serve", "--insecure-no-auth"}, false},
		{[]string{"serve", "--auth-tokens", tokens}, false},
		{[]string{"serve", "--roles", "worker"}, false},
		{[]string{"serve", "--roles", "projector,ingester"}, false},
	} {
		_, err := runRoot(t, "", c.args...)
		if refused(err) != c.refused {
			t.Errorf("%v: %v, refused want %v", c.args, err, c.refused)
		}
		if !c.refused && (err == nil || !strings.Contains(err.Error(), "Kafka brokers") && !strings.Contains(err.Error(), "needs Temporal")) {
			t.Errorf("%v: %v, want the missing brokers or Temporal next", c.args, err)
		}
	}
	t.Setenv("BACKLOT_INSECURE_NO_AUTH", "true")
	if _, err := runRoot(t, "", "serve"); refused(err) {
		t.Errorf("BACKLOT_INSECURE_NO_AUTH=true: %v", err)
	}
}

// TestServeAuthCommandsMakeHashedLines checks backlot auth hash-token and
// auth token create: their lines load, and the token authenticates.
func TestServeAuthCommandsMakeHashedLines(t *testing.T) {
	out, err := runRoot(t, "0123456789abcdef-ada\n", "auth", "hash-token", "user:ada", "--group", "platform,sre")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out)
	if strings.Contains(line, "0123456789abcdef-ada") || !strings.HasPrefix(line, "sha256:") || !strings.HasSuffix(line, " user:default/ada group:default/platform,group:default/sre") {
		t.Fatalf("hash-token printed %q", out)
	}
	if _, err := runRoot(t, "short\n", "auth", "hash-token", "user:ada"); err == nil {
		t.Error("a short token was hashed")
	}
	if _, err := runRoot(t, "", "auth", "hash-token", "user:ada"); err == nil || !strings.Contains(err.Error(), "stdin") {
		t.Errorf("no token on stdin: %v", err)
	}
	out, err = runRoot(t, "", "auth", "token", "create", "service:ci", "--group", "group:ops/deployers")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Contains(lines[1], lines[0]) {
		t.Fatalf("token create printed %q", out)
	}
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte(line+"\n"+lines[1]+"\n"), 0o600)
	tok, err := auth.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]string{"0123456789abcdef-ada": "user:default/ada", lines[0]: "service:ci"} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		if p, err := tok.Identify(r); err != nil || p.Ref != want {
			t.Errorf("token of %s: %+v %v", want, p, err)
		}
	}
	if tok.ClearTokens() != 0 {
		t.Errorf("%d tokens in clear", tok.ClearTokens())
	}
}
