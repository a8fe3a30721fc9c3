package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

// The principals of the authorization tests, by bearer token.
var authzPrincipals = map[string]auth.Principal{
	// jdoe is a member of team-a through the catalog only (team-a's
	// members), with no group on the token: ownership comes from the
	// owner group's hasMember relations.
	"jdoe":   {Ref: "user:default/jdoe"},
	"ada":    {Ref: "user:default/ada", Groups: []string{"group:default/team-a"}},
	"bob":    {Ref: "user:default/bob", Groups: []string{"group:default/team-b"}},
	"carol":  {Ref: "user:default/carol", Groups: []string{"group:default/team-b"}},
	"dave":   {Ref: "user:default/dave", Groups: []string{"group:default/team-c"}},
	"pat":    {Ref: "user:default/pat", Groups: []string{"group:default/platform"}},
	"audrey": {Ref: "user:default/audrey", Groups: []string{"group:default/auditors"}},
}

// fakeScaffolder holds tasks in memory and records what was done to them.
type fakeScaffolder struct {
	mu    sync.Mutex
	tasks map[string]scaffolder.TaskState
	calls []string
}

func (f *fakeScaffolder) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeScaffolder) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeScaffolder) Create(_ context.Context, actor, templateRef string, _ map[string]any, _ map[string]string) (string, error) {
	f.record("create " + templateRef + " by " + actor)
	return "new-task", nil
}

func (f *fakeScaffolder) Task(_ context.Context, id string) (scaffolder.TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.tasks[id]
	if !ok {
		return st, notFoundError("No task with id %s", id)
	}
	return st, nil
}

func (f *fakeScaffolder) List(context.Context, int, string, string) ([]scaffolder.TaskSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []scaffolder.TaskSummary
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range f.tasks {
			if !yield(id) {
				return
			}
		}
	}) {
		out = append(out, scaffolder.TaskSummary{ID: id, User: f.tasks[id].User, Status: f.tasks[id].Status})
	}
	return out, nil
}

func (f *fakeScaffolder) Cancel(_ context.Context, actor, id string) error {
	f.record("cancel " + id + " by " + actor)
	return nil
}

func (f *fakeScaffolder) Retry(_ context.Context, actor, id string) error {
	f.record("retry " + id + " by " + actor)
	return nil
}

func (f *fakeScaffolder) Decide(_ context.Context, id string, a scaffolder.Approval) error {
	f.record("decide " + id + " by " + a.By)
	return nil
}

func (f *fakeScaffolder) DryRun(context.Context, string, json.RawMessage, map[string]any, map[string]string, []scaffolder.File) (scaffolder.DryRunResult, error) {
	f.record("dry-run")
	return scaffolder.DryRunResult{}, nil
}

func (f *fakeScaffolder) ParameterSchema(context.Context, string) (scaffolder.ParameterSchema, error) {
	return scaffolder.ParameterSchema{}, nil
}

// fakeMigrations answers every migration and records what was started.
type fakeMigrations struct {
	mu      sync.Mutex
	started []string
}

func (f *fakeMigrations) Start(_ context.Context, actor string, _ []byte, dryRun bool) (migratesvc.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, actor)
	return migratesvc.Plan{ID: "m-1", Name: "m", DryRun: dryRun, Targets: []string{}}, nil
}

func (f *fakeMigrations) List(context.Context) ([]migration.Report, error) {
	return []migration.Report{{ID: "m-1", Name: "m"}, {ID: "m-2", Name: "secret"}}, nil
}

func (f *fakeMigrations) Get(_ context.Context, id string) (migration.Report, error) {
	return migration.Report{ID: id, Name: "m"}, nil
}

func (f *fakeMigrations) Control(context.Context, string, string, string) error { return nil }

func (f *fakeMigrations) Wake(context.Context, migratesvc.ChangeHook) error { return nil }

// authzFixture is the test catalog served with authentication: each bearer
// token names a principal of authzPrincipals. It has tasks, migrations,
// the audit log and a template restricted to team-b, and records denials.
type authzFixture struct {
	*fixture
	tasks      *fakeScaffolder
	migrations *fakeMigrations
	mu         sync.Mutex
	denials    []event.PermissionDenied
}

func newAuthzFixture(t *testing.T, configure ...func(*Config)) *authzFixture {
	t.Helper()
	af := &authzFixture{
		tasks: &fakeScaffolder{tasks: map[string]scaffolder.TaskState{
			// carol's task waits for an approval dave or the security group decides.
			"t-1": {ID: "t-1", User: "user:default/carol", Status: scaffolder.StatusProcessing,
				Waiting: &scaffolder.Waiting{StepID: "approve", Approvers: []string{"user:default/dave", "group:default/security"}},
				Log:     []scaffolder.LogLine{{Message: "secret step output"}}},
			// carol's task whose step lets her approve it herself.
			"t-2": {ID: "t-2", User: "user:default/carol", Status: scaffolder.StatusProcessing,
				Waiting: &scaffolder.Waiting{StepID: "approve", Approvers: []string{"group:default/team-b"}, SelfApproval: true}},
			// bob's task.
			"t-3": {ID: "t-3", User: "user:default/bob", Status: scaffolder.StatusFailed},
		}},
		migrations: &fakeMigrations{},
	}
	events := []event.Envelope{{ID: "e1", Source: "backlot", SpecVersion: "1.0", Type: "backlot.entity.upserted.v1",
		Subject: "component:default/checkout", Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), DataContentType: "application/json",
		Actor: "user:default/ada", Position: 1, Data: json.RawMessage(`{}`)}}
	af.fixture = newFixture(t, append([]func(*Config){func(c *Config) {
		c.Identify = func(r *http.Request) (auth.Principal, error) {
			p, ok := authzPrincipals[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
			if !ok {
				return auth.Principal{}, errors.New("a valid bearer token is required")
			}
			return p, nil
		}
		c.Scaffolder, c.Migrations = af.tasks, af.migrations
		c.Audit = fakeAuditLog{events: events}
		c.RecordDenial = func(_ context.Context, d event.PermissionDenied) error {
			af.mu.Lock()
			defer af.mu.Unlock()
			af.denials = append(af.denials, d)
			return nil
		}
	}}, configure...)...)
	af.upsert(t, 1000, `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: db
  annotations:
    backlot.dev/allowed-groups: group:default/team-b
spec:
  type: service
  steps: []
`)
	return af
}

// upsert adds an entity to the fixture's catalog at log position pos.
func (f *fixture) upsert(t *testing.T, pos int64, doc string) {
	t.Helper()
	docs, err := catalog.ParseDocuments("test.yaml", []byte(doc), catalog.Limits{})
	if err != nil || len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("parse: %v %+v", err, docs)
	}
	ent, err := catalog.NewEntity(docs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{Ref: ent.Ref().String(), UID: event.NewID(),
		Hash: catalog.HashJSON(ent.JSON()), Entity: ent.JSON(), LocationID: testLocationID, ManagedBy: "url:" + testLocationTarget,
		OriginLocation: "url:" + testLocationTarget}, event.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = pos
	if err := f.store.Apply(context.Background(), []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
}

// as sends a request as the principal of token ("" sends none).
func (af *authzFixture) as(t *testing.T, token, method, path, body string) response {
	t.Helper()
	var rd *strings.Reader
	if body == "" {
		rd = strings.NewReader("")
	} else {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, af.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func (af *authzFixture) recorded() []event.PermissionDenied {
	af.mu.Lock()
	defer af.mu.Unlock()
	return slices.Clone(af.denials)
}

func TestPermissionsAreEnforced(t *testing.T) {
	af := newAuthzFixture(t)
	checkoutUID := af.uids["component:default/checkout"]
	frontendUID := af.uids["component:default/frontend"]
	cases := []struct {
		name   string
		token  string
		method string
		path   string
		body   string
		status int
		// perm is the permission a 403 must name.
		perm permission.Permission
	}{
		// Migrations belong to the platform group: any token no longer starts one.
		{"a team's token starts a migration", "ada", "POST", "/api/migrations", `{}`, 403, permission.MigrationCreate},
		{"a team's token dry-runs a migration", "bob", "POST", "/api/migrations?dryRun=true", `{}`, 403, permission.MigrationDryRun},
		{"the platform starts a migration", "pat", "POST", "/api/migrations", `{}`, 201, ""},
		{"the platform dry-runs a migration", "pat", "POST", "/api/migrations?dryRun=true", `{}`, 200, ""},
		{"a team's token pauses a migration", "ada", "POST", "/api/migrations/m-1/pause", `{}`, 403, permission.MigrationControl},
		{"the platform pauses a migration", "pat", "POST", "/api/migrations/m-1/pause", `{}`, 202, ""},
		// Approvals: never the task's creator unless the step allows it.
		{"the creator approves its own step", "carol", "POST", "/api/scaffolder/v2/tasks/t-1/approval", `{"approved":true}`, 403, permission.ScaffolderApprovalDecide},
		{"someone not named approves", "bob", "POST", "/api/scaffolder/v2/tasks/t-1/approval", `{"approved":true}`, 403, permission.ScaffolderApprovalDecide},
		{"the platform approves a step naming approvers", "pat", "POST", "/api/scaffolder/v2/tasks/t-1/approval", `{"approved":true}`, 403, permission.ScaffolderApprovalDecide},
		{"a named approver approves", "dave", "POST", "/api/scaffolder/v2/tasks/t-1/approval", `{"approved":true}`, 200, ""},
		{"the creator approves a self-approval step", "carol", "POST", "/api/scaffolder/v2/tasks/t-2/approval", `{"approved":true}`, 200, ""},
		{"a task waiting for nothing", "dave", "POST", "/api/scaffolder/v2/tasks/t-3/approval", `{"approved":true}`, 409, ""},
		// Nobody cancels or retries another's task, but the platform group.
		{"another cancels a task", "bob", "POST", "/api/scaffolder/v2/tasks/t-1/cancel", `{}`, 403, permission.ScaffolderTaskCancel},
		{"another retries a task", "carol", "POST", "/api/scaffolder/v2/tasks/t-3/retry", `{}`, 403, permission.ScaffolderTaskRetry},
		{"the creator cancels its task", "carol", "POST", "/api/scaffolder/v2/tasks/t-1/cancel", `{}`, 200, ""},
		{"the creator retries its task", "bob", "POST", "/api/scaffolder/v2/tasks/t-3/retry", `{}`, 201, ""},
		{"the platform cancels any task", "pat", "POST", "/api/scaffolder/v2/tasks/t-3/cancel", `{}`, 200, ""},
		{"cancelling no task", "pat", "POST", "/api/scaffolder/v2/tasks/nope/cancel", `{}`, 404, ""},
		// Task logs, migration reports and audit events need the right principal.
		{"a task's log without a token", "", "GET", "/api/scaffolder/v2/tasks/t-1/events", "", 401, ""},
		{"a task's log signed in", "bob", "GET", "/api/scaffolder/v2/tasks/t-1/events", "", 200, ""},
		{"a migration report without a token", "", "GET", "/api/migrations/m-1", "", 401, ""},
		{"audit events without a token", "", "GET", "/api/audit/events", "", 401, ""},
		{"audit events by a team", "bob", "GET", "/api/audit/events", "", 403, permission.AuditRead},
		{"audit events by the platform", "pat", "GET", "/api/audit/events", "", 403, permission.AuditRead},
		{"audit events by an auditor", "audrey", "GET", "/api/audit/events", "", 200, ""},
		{"an entity's history by a team", "ada", "GET", "/api/audit/entities/component/default/checkout/history", "", 403, permission.AuditRead},
		// An entity's owners delete and refresh it; others do not.
		{"another team deletes an entity", "bob", "DELETE", "/api/catalog/entities/by-uid/" + checkoutUID, "", 403, permission.CatalogEntityDelete},
		{"another team refreshes an entity", "bob", "POST", "/api/catalog/refresh", `{"entityRef":"component:default/checkout"}`, 403, permission.CatalogEntityRefresh},
		{"the owner group refreshes its entity", "ada", "POST", "/api/catalog/refresh", `{"entityRef":"component:default/checkout"}`, 200, ""},
		{"a member by the catalog refreshes", "jdoe", "POST", "/api/catalog/refresh", `{"entityRef":"component:checkout"}`, 200, ""},
		{"the owner group deletes its entity", "ada", "DELETE", "/api/catalog/entities/by-uid/" + checkoutUID, "", 204, ""},
		{"a member by the catalog deletes", "jdoe", "DELETE", "/api/catalog/entities/by-uid/" + checkoutUID, "", 204, ""},
		{"a member of another team deletes", "jdoe", "DELETE", "/api/catalog/entities/by-uid/" + frontendUID, "", 403, permission.CatalogEntityDelete},
		{"a team deletes an unknown entity", "ada", "DELETE", "/api/catalog/entities/by-uid/no-such-uid", "", 403, permission.CatalogEntityDelete},
		{"a team registers a location", "ada", "POST", "/api/catalog/locations", `{"type":"url","target":"https://h/x.yaml"}`, 403, permission.CatalogLocationCreate},
		{"the platform registers a location", "pat", "POST", "/api/catalog/locations", `{"type":"url","target":"https://h/x.yaml"}`, 201, ""},
		// A template restricted to a group refuses others.
		{"another group runs a restricted template", "ada", "POST", "/api/scaffolder/v2/tasks", `{"templateRef":"template:default/db"}`, 403, permission.ScaffolderTaskCreate},
		{"the allowed group runs a restricted template", "bob", "POST", "/api/scaffolder/v2/tasks", `{"templateRef":"template:default/db"}`, 201, ""},
		{"another group dry-runs an uploaded restricted template", "ada", "POST", "/api/scaffolder/v2/dry-run",
			`{"template":{"metadata":{"name":"db","annotations":{"backlot.dev/allowed-groups":"group:default/team-b"}}}}`, 403, permission.ScaffolderTaskDryRun},
		// Reads stay open to everyone signed in.
		{"a team reads an entity", "bob", "GET", "/api/catalog/entities/by-name/component/default/checkout", "", 200, ""},
		{"a team reads the tasks", "bob", "GET", "/api/scaffolder/v2/tasks", "", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(af.recorded())
			resp := af.as(t, c.token, c.method, c.path, c.body)
			if resp.status != c.status {
				t.Fatalf("%s %s as %q: %d, want %d: %s", c.method, c.path, c.token, resp.status, c.status, resp.body)
			}
			denials := af.recorded()[before:]
			if c.status != http.StatusForbidden {
				if len(denials) != 0 {
					t.Errorf("an allowed request recorded denials: %+v", denials)
				}
				return
			}
			var eb errorBody
			if err := json.Unmarshal(resp.body, &eb); err != nil {
				t.Fatal(err)
			}
			if eb.Error.Name != "NotAllowedError" || !strings.Contains(eb.Error.Message, string(c.perm)) || !strings.Contains(eb.Error.Message, "denied") {
				t.Errorf("403 body %s %q: want NotAllowedError naming %s and the reason", eb.Error.Name, eb.Error.Message, c.perm)
			}
			if len(denials) != 1 {
				t.Fatalf("%d denials recorded, want 1", len(denials))
			}
			d := denials[0]
			if d.Permission != string(c.perm) || d.Principal != authzPrincipals[c.token].Ref || d.Method != c.method || d.Reason == "" {
				t.Errorf("denial recorded = %+v", d)
			}
		})
	}
	// What the services were asked to do: only the allowed requests reached them.
	want := []string{"decide t-1 by user:default/dave", "decide t-2 by user:default/carol", "cancel t-1 by user:default/carol",
		"retry t-3 by user:default/bob", "cancel t-3 by user:default/pat", "create template:default/db by user:default/bob"}
	if got := af.tasks.called(); !slices.Equal(got, want) {
		t.Errorf("the scaffolder was asked %q, want %q", got, want)
	}
	if got := af.migrations.started; !slices.Equal(got, []string{"user:default/pat", "user:default/pat"}) {
		t.Errorf("migrations started by %q, want the platform's two", got)
	}
}

func TestDenialRecordsWhoWhatAndTheRule(t *testing.T) {
	af := newAuthzFixture(t)
	resp := af.as(t, "carol", "POST", "/api/scaffolder/v2/tasks/t-1/approval", `{"approved":true}`)
	if resp.status != http.StatusForbidden {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	d := af.recorded()
	if len(d) != 1 {
		t.Fatalf("denials: %+v", d)
	}
	want := event.PermissionDenied{Principal: "user:default/carol", Groups: []string{"group:default/team-b"}, Permission: "scaffolder.approval.decide",
		ResourceKind: "ApprovalStep", Resource: "t-1/approve", Rule: "no-self-approval", Method: "POST", Path: "/api/scaffolder/v2/tasks/t-1/approval"}
	got := d[0]
	got.Reason = ""
	if !slices.Equal(got.Groups, want.Groups) || got.Principal != want.Principal || got.Permission != want.Permission ||
		got.ResourceKind != want.ResourceKind || got.Resource != want.Resource || got.Rule != want.Rule || got.Path != want.Path {
		t.Errorf("denial = %+v, want %+v", got, want)
	}
}

func TestGuestActsWithoutAnAuthenticator(t *testing.T) {
	cases := []struct {
		name   string
		guest  *auth.Principal
		status int
	}{
		{"a guest in the platform group", &auth.Principal{Ref: DefaultActor, Groups: []string{"group:default/platform"}}, 201},
		{"a guest without groups", &auth.Principal{Ref: DefaultActor}, 403},
		{"no guest: nobody signed in", &auth.Principal{}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, func(cfg *Config) { cfg.Guest = c.guest })
			resp := f.call(t, "POST", "/locations", `{"type":"url","target":"https://h/x.yaml"}`)
			if resp.status != c.status {
				t.Fatalf("register a location: %d, want %d: %s", resp.status, c.status, resp.body)
			}
			read := f.call(t, "GET", "/entities/by-name/component/default/checkout", "")
			if wantRead := c.guest.Ref != ""; (read.status == http.StatusOK) != wantRead {
				t.Errorf("read: %d, want allowed %v", read.status, wantRead)
			}
		})
	}
}

func TestRouteTableNamesAPermissionForEveryRoute(t *testing.T) {
	t.Parallel()
	table := RouteTable()
	seen := map[string]bool{}
	var open []string
	for _, ra := range table {
		if seen[ra.Pattern] {
			t.Errorf("%s: listed twice", ra.Pattern)
		}
		seen[ra.Pattern] = true
		switch {
		case ra.Open != "" && ra.Permission != "":
			t.Errorf("%s: both open and needing %s", ra.Pattern, ra.Permission)
		case ra.Open != "":
			open = append(open, ra.Pattern)
		case !permission.Known(ra.Permission):
			t.Errorf("%s: names unknown permission %q", ra.Pattern, ra.Permission)
		}
	}
	wantOpen := []string{
		"GET /healthz", "GET /readyz", "GET /metrics",
		"POST /api/git/hooks/{host}",
		"GET /api/badges/{kind}/{namespace}/{name}/{file}",
		// Backstage's routes Backlot answers 501.
		"POST /api/catalog/entities/by-query", "POST /api/catalog/entity-facets",
		"GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry",
		"POST /api/catalog/locations/by-query", "PUT /api/catalog/locations/{id}", "POST /api/catalog/analyze-location",
		// The paths no route serves, answered 404.
		"/", "/api/catalog", "/api/catalog/",
		// Sign-in, and who the caller is (the authenticator still names it).
		"GET /auth/login", "GET /auth/callback", "GET /auth/config", "POST /auth/logout", "GET /api/auth/me",
	}
	slices.Sort(open)
	slices.Sort(wantOpen)
	if !slices.Equal(open, wantOpen) {
		t.Errorf("open routes %q, want %q", open, wantOpen)
	}
	for _, must := range []string{"POST /api/migrations", "POST /api/scaffolder/v2/tasks/{id}/approval", "GET /api/audit/events", "POST /api/permissions/decide"} {
		if !seen[must] {
			t.Errorf("the table lacks %s", must)
		}
	}
	if len(table) < 70 {
		t.Errorf("the table lists %d routes; the API serves more", len(table))
	}
}

func TestDecideEndpointResolvesTheResource(t *testing.T) {
	af := newAuthzFixture(t)
	cases := []struct {
		name    string
		body    string
		allowed bool
		rule    string
		status  int
	}{
		{"an owner by the catalog deletes", `{"principal":"user:default/jdoe","permission":"catalog.entity.delete","resource":"component:default/checkout"}`, true, "owners-write", 200},
		{"given groups decide", `{"principal":"user:default/bob","groups":["group:default/platform"],"permission":"catalog.entity.delete","resource":"component:default/checkout"}`, true, "platform-operates", 200},
		{"another team deletes", `{"principal":"user:default/bob","groups":["group:default/team-b"],"permission":"catalog.entity.delete","resource":"component:default/checkout"}`, false, "", 200},
		{"a creator approves its task", `{"principal":"user:default/carol","permission":"scaffolder.approval.decide","resource":"t-1"}`, false, "no-self-approval", 200},
		{"an approver approves", `{"principal":"user:default/dave","permission":"scaffolder.approval.decide","resource":"t-1"}`, true, "named-approvers-decide", 200},
		{"the creator cancels", `{"principal":"user:default/carol","permission":"scaffolder.task.cancel","resource":"t-1"}`, true, "task-creator-controls", 200},
		{"a restricted template", `{"principal":"user:default/ada","groups":["group:default/team-a"],"permission":"scaffolder.task.create","resource":"template:default/db"}`, false, "", 200},
		{"a resource given whole", `{"principal":"user:default/x","permission":"scaffolder.task.cancel","resource":{"kind":"Task","taskCreator":"user:default/x"}}`, true, "task-creator-controls", 200},
		{"an unknown permission", `{"principal":"user:default/x","permission":"catalog.explode"}`, false, "", 400},
		{"an unknown entity", `{"principal":"user:default/x","permission":"catalog.entity.delete","resource":"component:default/nope"}`, false, "", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := af.as(t, "bob", "POST", "/api/permissions/decide", c.body)
			if resp.status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.status, c.status, resp.body)
			}
			if c.status != 200 {
				return
			}
			var d DecideResponse
			if err := json.Unmarshal(resp.body, &d); err != nil {
				t.Fatal(err)
			}
			if d.Allowed != c.allowed || d.Rule != c.rule || !strings.Contains(d.Reason, d.Permission) || d.Policy != "default" {
				t.Errorf("decision %+v, want allowed %v by %q", d, c.allowed, c.rule)
			}
		})
	}
	if n := len(af.recorded()); n != 0 {
		t.Errorf("asking recorded %d denials", n)
	}
	if resp := af.as(t, "", "POST", "/api/permissions/decide", `{"permission":"audit.read"}`); resp.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", resp.status)
	}
}

func TestDenialsRecordedPerPrincipalAreBounded(t *testing.T) {
	t.Parallel()
	var l denialLimiter
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxDenialsRecorded {
		if !l.allow("user:default/mallory", now.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("denial %d of the window refused", i+1)
		}
	}
	if l.allow("user:default/mallory", now.Add(time.Second)) {
		t.Error("a denial over the limit is recorded")
	}
	if !l.allow("user:default/ada", now.Add(time.Second)) {
		t.Error("another principal's denial is refused")
	}
	if !l.allow("user:default/mallory", now.Add(denialWindow)) {
		t.Error("the next window refuses")
	}
}

func TestARouteOutsideTheTableIsRefused(t *testing.T) {
	t.Parallel()
	s := &server{cfg: Config{}, log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	s.route(mux, "GET /listed", openTo("a test route"), func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	mux.HandleFunc("GET /unlisted", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := s.onlyListed(mux)
	for path, want := range map[string]int{"/listed": http.StatusNoContent, "/unlisted": http.StatusForbidden, "/nothing": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d: %s", path, rec.Code, want, rec.Body)
		}
	}
}

// fakeSubscriptions serves subscriptions from memory (Webhooks), recording
// what is deleted.
type fakeSubscriptions struct {
	store   fakeSubStore
	deleted []string
}

// fakeSubStore is the Store of fakeSubscriptions: List and Get.
type fakeSubStore struct {
	webhooks.Store
	subs []webhooks.Subscription
}

func (f *fakeSubscriptions) Create(context.Context, string, webhooks.Input) (webhooks.Subscription, error) {
	return webhooks.Subscription{}, errors.New("not in this test")
}
func (f *fakeSubscriptions) Delete(_ context.Context, id string) error {
	f.deleted = append(f.deleted, id)
	return nil
}
func (f *fakeSubscriptions) Replay(context.Context, string, string) error { return nil }
func (f *fakeSubscriptions) Store() webhooks.Store                        { return f.store }
func (f fakeSubStore) List(context.Context) ([]webhooks.Subscription, error) {
	return slices.Clone(f.subs), nil
}
func (f fakeSubStore) Get(_ context.Context, id string) (webhooks.Subscription, error) {
	for _, s := range f.subs {
		if s.ID == id {
			return s, nil
		}
	}
	return webhooks.Subscription{}, notFoundError("No subscription %s", id)
}

// TestSubscriptionsAreTheirCreators: under the default policy a
// subscription is read and deleted by its creator and the platform group,
// and the list shows each principal its own.
func TestSubscriptionsAreTheirCreators(t *testing.T) {
	subs := &fakeSubscriptions{store: fakeSubStore{subs: []webhooks.Subscription{
		{ID: "s-ada", URL: "https://a.example/hook", CreatedBy: "user:default/ada"},
		{ID: "s-bob", URL: "https://b.example/hook", CreatedBy: "user:default/bob"},
		{ID: "s-bob-2", URL: "https://b.example/hook2", CreatedBy: "user:default/bob"},
	}}}
	af := newAuthzFixture(t, func(c *Config) { c.Webhooks = subs })
	list := func(token string) []string {
		var got struct {
			Items []webhooks.Subscription `json:"items"`
		}
		resp := af.as(t, token, "GET", "/api/events/subscriptions", "")
		resp.mustStatus(t, http.StatusOK).decode(t, &got)
		var ids []string
		for _, s := range got.Items {
			ids = append(ids, s.ID)
		}
		return ids
	}
	for token, want := range map[string][]string{"ada": {"s-ada"}, "bob": {"s-bob", "s-bob-2"}, "pat": {"s-ada", "s-bob", "s-bob-2"}, "dave": nil} {
		if got := list(token); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", token, got, want)
		}
	}
	for _, c := range []struct {
		token, method, path string
		status              int
	}{
		{"ada", "GET", "/api/events/subscriptions/s-bob", 403},
		{"ada", "DELETE", "/api/events/subscriptions/s-bob", 403},
		{"ada", "POST", "/api/events/subscriptions/s-bob/dead-letters/e1/replay", 403},
		{"bob", "GET", "/api/events/subscriptions/s-bob", 200},
		{"bob", "DELETE", "/api/events/subscriptions/s-bob", 204},
		{"pat", "DELETE", "/api/events/subscriptions/s-ada", 204},
	} {
		body := ""
		if c.method == "POST" {
			body = "{}"
		}
		if resp := af.as(t, c.token, c.method, c.path, body); resp.status != c.status {
			t.Errorf("%s %s as %s: %d, want %d: %s", c.method, c.path, c.token, resp.status, c.status, resp.body)
		}
	}
	if !slices.Equal(subs.deleted, []string{"s-bob", "s-ada"}) {
		t.Errorf("deleted %v, want bob's by bob, ada's by the platform", subs.deleted)
	}
}
