package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
)

// TestAuthCanExplainsTheDecision asks the default policy and a policy file,
// and checks the verdict, the deciding rule, the exit status and the JSON.
func TestAuthCanExplainsTheDecision(t *testing.T) {
	owned := `{"kind":"Component","ref":"component:default/ledger","owner":"group:default/team-a"}`
	for _, c := range []struct {
		name    string
		args    []string
		allowed bool
		want    []string // in the output (or the error)
	}{
		{name: "an owner deletes", args: []string{"user:default/ada", "catalog.entity.delete", owned, "--group", "group:default/team-a"},
			allowed: true, want: []string{"allow", "owners-write"}},
		{name: "another team may not", args: []string{"user:default/bo", "catalog.entity.delete", owned, "--group", "group:default/team-b"},
			want: []string{"deny", "no rule matched", "user:default/bo may not catalog.entity.delete"}},
		{name: "nobody signed in reads nothing", args: []string{"", "catalog.entity.read", "--resource", owned},
			want: []string{"deny", "anonymous-denied", "nobody signed in may not catalog.entity.read"}},
		{name: "a migration needs the platform group", args: []string{"user:default/ada", "migration.create", "{}", "--group", "group:default/ops", "--param", "platformGroup=group:default/ops"},
			allowed: true, want: []string{"allow", "platform-operates"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runRoot(t, "", append([]string{"auth", "can"}, c.args...)...)
			if (err == nil) != c.allowed {
				t.Fatalf("allowed = %v, want %v: %v\n%s", err == nil, c.allowed, err, out)
			}
			text := out
			if err != nil {
				text += err.Error()
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		out, err := runRoot(t, "", "auth", "can", "user:default/ada", "catalog.entity.refresh", owned, "--group", "group:default/team-a", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Allowed bool   `json:"allowed"`
			Rule    string `json:"rule"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || !d.Allowed || d.Rule != "owners-write" {
			t.Fatalf("json %q: %+v %v", out, d, err)
		}
	})

	t.Run("a policy file's deny rule wins", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "policy.yaml")
		os.WriteFile(file, []byte(`apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata:
  name: frozen
spec:
  rules:
    - name: everyone-reads
      permissions: ["catalog.*"]
      effect: allow
      if: principal.authenticated
    - name: change-freeze
      permissions: [catalog.entity.delete]
      effect: deny
      if: "true"
`), 0o644)
		out, err := runRoot(t, "", "auth", "can", "user:default/ada", "catalog.entity.delete", owned, "--policy", file)
		if err == nil || !strings.Contains(out, "change-freeze") {
			t.Fatalf("a deny rule: %v\n%s", err, out)
		}
		if out, err := runRoot(t, "", "auth", "can", "user:default/ada", "catalog.entity.read", owned, "--policy", file); err != nil || !strings.Contains(out, "everyone-reads") {
			t.Fatalf("an allow rule: %v\n%s", err, out)
		}
	})

	t.Run("bad input names what is wrong", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"user:default/ada", "catalog.entity.destroy"}, `unknown permission "catalog.entity.destroy"`},
			{[]string{"user:default/ada", "catalog.entity.read", "{not json"}, "RESOURCE-JSON"},
			{[]string{"user:default/ada", "catalog.entity.read", "{}", "--param", "platformGroup"}, "want NAME=VALUE"},
			{[]string{"user:default/ada", "catalog.entity.read", "{}", "--policy", "/nonexistent/policy.yaml"}, "/nonexistent/policy.yaml"},
		} {
			if _, err := runRoot(t, "", append([]string{"auth", "can"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("auth can %v: %v, want an error naming %q", c.args, err, c.want)
			}
		}
	})
}

// TestAuthCanAsksAServer asks a running backlot dev: the server resolves the
// entity's owner and the principal's groups from its catalog.
func TestAuthCanAsksAServer(t *testing.T) {
	dir := t.TempDir()
	cat := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(cat, []byte(`apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [ada]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ada}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger}
spec: {type: service, lifecycle: production, owner: team-a}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := app.StartDev(ctx, app.DevConfig{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Catalogs: []string{cat},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	select {
	case <-d.Loaded():
	case <-ctx.Done():
		t.Fatal("catalog not loaded")
	}
	url := "http://" + d.Addr()
	for _, c := range []struct {
		name    string
		args    []string
		allowed bool
		want    []string
	}{
		{"an owner by the catalog's membership", []string{"user:default/ada", "catalog.entity.delete", "component:default/ledger", "--server", url},
			true, []string{"allow", "owners-write", "group:default/team-a"}},
		{"given groups replace the catalog's", []string{"user:default/bo", "catalog.entity.delete", "component:default/ledger", "--group", "team-b", "--server=" + url},
			false, []string{"deny", "no rule matched", "user:default/bo may not catalog.entity.delete"}},
		{"a migration", []string{"user:default/bo", "migration.create", "--server", url},
			false, []string{"deny"}},
		{"an entity the server lacks", []string{"user:default/ada", "catalog.entity.delete", "component:default/nope", "--server", url},
			false, []string{"no entity component:default/nope"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runRoot(t, "", append([]string{"auth", "can"}, c.args...)...)
			if (err == nil) != c.allowed {
				t.Fatalf("allowed = %v, want %v: %v\n%s", err == nil, c.allowed, err, out)
			}
			text := out
			if err != nil {
				text += err.Error()
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
