package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// permCatalog is a catalog of two teams, each owning a component.
const permCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ours}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: theirs}
spec: {type: service, lifecycle: production, owner: team-b}
`

// call sends a request to a dev or serve server with an optional bearer
// token and JSON body, and returns the status and body.
func call(t *testing.T, d interface{ Addr() string }, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+d.Addr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// TestDevEnforcesPermissionsAndAuditsDenials runs backlot dev with tokens:
// the default policy refuses what it should with 403 naming the permission,
// and each refusal is an event an auditor reads through the audit API.
func TestDevEnforcesPermissionsAndAuditsDenials(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": permCatalog})
	var lines []string
	for _, tok := range []struct{ token, principal, group string }{
		{"ada-0123456789abcdef", "user:default/ada", "team-a"},
		{"pat-0123456789abcdef", "user:default/pat", "platform"},
		{"aud-0123456789abcdef", "user:default/audrey", "auditors"},
	} {
		line, err := auth.HashLine(tok.token, tok.principal, tok.group)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{filepath.Join(dir, "catalog-info.yaml")}, AuthTokens: tokens})
	defer d.Close()
	uid := func(name string) string {
		_, raw := call(t, d, "ada-0123456789abcdef", "GET", "/api/catalog/entities/by-name/component/default/"+name, "")
		var e struct {
			Metadata struct{ UID string } `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Metadata.UID == "" {
			t.Fatalf("entity %s: %s", name, raw)
		}
		return e.Metadata.UID
	}
	theirs, ours := uid("theirs"), uid("ours")
	cases := []struct {
		name, token, method, path, body string
		status                          int
		perm                            string
	}{
		{"a team starts a migration", "ada-0123456789abcdef", "POST", "/api/migrations?dryRun=true", `{}`, 403, "migration.dryrun"},
		{"a team deletes another's entity", "ada-0123456789abcdef", "DELETE", "/api/catalog/entities/by-uid/" + theirs, "", 403, "catalog.entity.delete"},
		{"a team reads the audit", "ada-0123456789abcdef", "GET", "/api/audit/events", "", 403, "audit.read"},
		{"the platform reads the audit", "pat-0123456789abcdef", "GET", "/api/audit/events", "", 403, "audit.read"},
		{"a team deletes its entity", "ada-0123456789abcdef", "DELETE", "/api/catalog/entities/by-uid/" + ours, "", 204, ""},
		{"an auditor reads the audit", "aud-0123456789abcdef", "GET", "/api/audit/events", "", 200, ""},
	}
	for _, c := range cases {
		status, body := call(t, d, c.token, c.method, c.path, c.body)
		if status != c.status {
			t.Fatalf("%s: %d, want %d: %s", c.name, status, c.status, body)
		}
		if c.perm != "" && (!strings.Contains(string(body), "NotAllowedError") || !strings.Contains(string(body), c.perm)) {
			t.Errorf("%s: the 403 does not name NotAllowedError and %s: %s", c.name, c.perm, body)
		}
	}
	status, body := call(t, d, "aud-0123456789abcdef", "GET", "/api/audit/events?type=backlot.permission.denied.v1", "")
	if status != 200 {
		t.Fatalf("denials: %d %s", status, body)
	}
	var page struct {
		Items []struct {
			Event struct {
				Subject, Actor string
				Data           struct {
					Permission, Principal, Resource string
				}
			}
		}
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range page.Items {
		got[it.Event.Data.Permission+" "+it.Event.Data.Resource] = it.Event.Actor + " " + it.Event.Subject
	}
	for key, want := range map[string]string{
		"migration.dryrun ": "user:default/ada principal:user:default/ada",
		"catalog.entity.delete component:default/theirs": "user:default/ada principal:user:default/ada",
		"audit.read ": "user:default/pat principal:user:default/pat",
	} {
		if got[key] != want {
			t.Errorf("denial %q recorded as %q, want %q (all: %v)", key, got[key], want, got)
		}
	}
	if len(page.Items) != 4 {
		t.Errorf("%d denials recorded, want 4 (ada's three, pat's one)", len(page.Items))
	}
}

// TestDevGuestAndPolicyFile: on loopback without tokens requests act as the
// guest, whose groups are configurable; a policy file replaces the default.
func TestDevGuestAndPolicyFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"catalog-info.yaml": permCatalog,
		"more.yaml":         component("extra", "production"),
		"policy.yaml": `apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: no-groups}
spec:
  params: {platformGroup: "group:default/platform", auditorsGroup: "group:default/auditors"}
  rules:
    - name: read-but-groups
      permissions: [catalog.entity.read]
      effect: allow
      if: resource.?kind.orValue("") != "Group"
`,
	})
	catalogs := []string{filepath.Join(dir, "catalog-info.yaml")}
	register := `{"type":"file","target":"` + filepath.Join(dir, "more.yaml") + `"}`

	readOnly := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: catalogs, Permissions: app.PermissionsConfig{GuestGroups: []string{}}})
	defer readOnly.Close()
	if status, body := call(t, readOnly, "", "POST", "/api/catalog/locations", register); status != 403 || !strings.Contains(string(body), "catalog.location.create") {
		t.Errorf("a guest without groups registers a location: %d %s", status, body)
	}
	if status, _ := call(t, readOnly, "", "GET", "/api/catalog/entities/by-name/group/default/team-a", ""); status != 200 {
		t.Errorf("a guest without groups reads: %d", status)
	}

	custom := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: catalogs, Permissions: app.PermissionsConfig{PolicyFile: filepath.Join(dir, "policy.yaml")}})
	defer custom.Close()
	status, body := call(t, custom, "", "GET", "/api/catalog/entities?filter=kind=group,kind=component", "")
	if status != 200 || strings.Contains(string(body), `"kind":"Group"`) || !strings.Contains(string(body), `"name":"ours"`) {
		t.Errorf("the policy file's entity list: %d %s", status, body)
	}
	if status, _ := call(t, custom, "", "GET", "/api/catalog/entities/by-name/group/default/team-a", ""); status != 403 {
		t.Errorf("a group under the policy file: %d, want 403", status)
	}

	sre, err := app.StartDev(t.Context(), app.DevConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Permissions: app.PermissionsConfig{PolicyFile: filepath.Join(dir, "policy.yaml"), PlatformGroup: "group:default/sre", AuditorsGroup: "x"},
		Logger:      quietLogger()})
	if err != nil {
		t.Fatalf("overriding declared parameters: %v", err)
	}
	sre.Close()
	_, err = app.StartDev(t.Context(), app.DevConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Permissions: app.PermissionsConfig{PolicyFile: filepath.Join(dir, "missing.yaml")}, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing policy file: %v", err)
	}
}

// TestServeFactReportsAreTheOwners runs backlot serve with tokens: a fact
// report's permission check, which resolves the entity and its owner through
// the fact reports' own pool, lets a team report facts about its component
// and refuses it another team's with 403 naming facts.report.
func TestServeFactReportsAreTheOwners(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"catalog-info.yaml": permCatalog})
	line, err := auth.HashLine("ada-0123456789abcdef", "user:default/ada", "team-a")
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Catalogs: []string{filepath.Join(dir, "catalog-info.yaml")}, AuthTokens: tokens})
	report := func(entity string) (int, []byte) {
		t.Helper()
		return call(t, s, "ada-0123456789abcdef", "POST", "/api/facts",
			`{"items":[{"entity":"`+entity+`","source":"ci","facts":{"coverage":90}}]}`)
	}
	if status, body := report("component:default/ours"); status != http.StatusOK {
		t.Fatalf("a team reports facts about its component: %d %s", status, body)
	}
	status, body := report("component:default/theirs")
	if status != http.StatusForbidden || !strings.Contains(string(body), "facts.report") {
		t.Fatalf("a team reports facts about another's component: %d %s, want 403 naming facts.report", status, body)
	}
}
