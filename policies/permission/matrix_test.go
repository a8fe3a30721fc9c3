package permission

import (
	"strings"
	"testing"
)

// The principals of the default policy's matrix.
var (
	anonymous = Principal{}
	guest     = Principal{Ref: "user:default/guest"}
	alice     = Principal{Ref: "user:default/alice", Groups: []string{"group:default/team-a"}}  // owner team
	bob       = Principal{Ref: "user:default/bob", Groups: []string{"group:default/team-b"}}    // another team
	carol     = Principal{Ref: "user:default/carol", Groups: []string{"group:default/team-b"}}  // the task's creator
	dave      = Principal{Ref: "user:default/dave", Groups: []string{"group:default/team-c"}}   // an approver by name
	erin      = Principal{Ref: "user:default/erin", Groups: []string{"group:default/security"}} // an approver by group
	pat       = Principal{Ref: "user:default/pat", Groups: []string{"group:default/platform"}}
	audrey    = Principal{Ref: "user:default/audrey", Groups: []string{"group:default/auditors"}}
	ciToken   = Principal{Ref: "service:ci-team-a", Groups: []string{"group:default/team-a"}, Claims: map[string]any{"token": "static"}}
	hookToken = Principal{Ref: "service:github", Groups: []string{"group:default/git-hooks"}}
	// mallory belongs to a group with a matching suffix, which must not count.
	mallory = Principal{Ref: "user:default/mallory", Groups: []string{"group:default/team-a-fans"}}
)

// The resources of the matrix.
var (
	entity = Resource{"kind": "Component", "ref": "component:default/api",
		"owner": "group:default/team-a", "ownerMembers": []string{"user:default/alice"}}
	// entityMembersOnly is owned by a group the caller resolved only into members.
	entityMembersOnly = Resource{"kind": "Component", "ref": "component:default/web",
		"owner": "group:default/team-z", "ownerMembers": []string{"user:default/bob"}}
	userOwned    = Resource{"kind": "Component", "ref": "component:default/tool", "owner": "user:default/bob"}
	unowned      = Resource{"kind": "Component", "ref": "component:default/orphan"}
	location     = Resource{"kind": "Location", "ref": "url:https://git.example/a/catalog-info.yaml"}
	openTemplate = Resource{"kind": "Template", "ref": "template:default/service"}
	teamBOnly    = Resource{"kind": "Template", "ref": "template:default/db",
		"allowedGroups": []string{"group:default/team-b"}}
	task = Resource{"kind": "Task", "ref": "task-1", "taskCreator": "user:default/carol"}
	step = Resource{"kind": "ApprovalStep", "ref": "task-1/approve", "taskCreator": "user:default/carol",
		"approvers": []string{"user:default/dave", "group:default/security"}}
	// stepCreatorNamed names the creator as an approver, without self-approval.
	stepCreatorNamed = Resource{"kind": "ApprovalStep", "ref": "task-2/approve", "taskCreator": "user:default/carol",
		"approvers": []string{"user:default/carol", "user:default/dave"}}
	stepSelfAllowed = Resource{"kind": "ApprovalStep", "ref": "task-3/approve", "taskCreator": "user:default/carol",
		"approvers": []string{"group:default/team-b"}, "selfApproval": true}
	stepUnnamed      = ApprovalResource("task-4", "approve", "user:default/carol", nil, false)
	stepUnnamedByPat = ApprovalResource("task-5", "approve", "user:default/pat", nil, false)
	migration        = Resource{"kind": "Migration", "ref": "m-1"}
	policy           = Resource{"kind": "Policy", "ref": "policy:default/production-ready"}
	subscription     = Resource{"kind": "Subscription", "ref": "sub-1", "createdBy": "user:default/bob"}
	audit            = Resource{"kind": "Audit"}
	hook             = Resource{"kind": "GitHook", "source": "github"}
)

func TestDefaultPolicyMatrix(t *testing.T) {
	t.Parallel()
	e, err := Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		principal Principal
		action    Permission
		resource  Resource
		allowed   bool
		rule      string
	}{
		// Nobody signed in may do anything, reads included.
		{"anonymous reads an entity", anonymous, CatalogEntityRead, entity, false, "anonymous-denied"},
		{"anonymous reads a task", anonymous, ScaffolderTaskRead, task, false, "anonymous-denied"},
		{"anonymous dry-runs a migration", anonymous, MigrationDryRun, migration, false, "anonymous-denied"},
		{"anonymous reads audit", anonymous, AuditRead, audit, false, "anonymous-denied"},
		{"anonymous runs an open template", anonymous, ScaffolderTaskCreate, openTemplate, false, "anonymous-denied"},
		{"anonymous delivers a git hook", anonymous, GitHookReceive, hook, false, "anonymous-denied"},
		// A signed-in guest reads, and nothing more.
		{"guest reads an entity", guest, CatalogEntityRead, entity, true, "signed-in-read"},
		{"guest reads a migration", guest, MigrationRead, migration, true, "signed-in-read"},
		{"guest reads policies", guest, PolicyRead, policy, true, "signed-in-read"},
		{"guest reads events", guest, EventsRead, nil, true, "signed-in-read"},
		{"guest deletes an entity", guest, CatalogEntityDelete, entity, false, ""},
		{"guest writes a policy", guest, PolicyWrite, policy, false, ""},
		{"guest reads audit", guest, AuditRead, audit, false, ""},
		// The owning team writes to its entities.
		{"owner deletes its entity", alice, CatalogEntityDelete, entity, true, "owners-write"},
		{"owner refreshes its entity", alice, CatalogEntityRefresh, entity, true, "owners-write"},
		{"owner reports facts", alice, FactsReport, entity, true, "owners-write"},
		{"owner merges a change", alice, GitChangeMerge, entity, true, "owners-write"},
		{"owner closes a change", alice, GitChangeClose, entity, true, "owners-write"},
		{"owner starts a migration", alice, MigrationCreate, migration, false, ""},
		{"owner registers a location", alice, CatalogLocationCreate, location, false, ""},
		{"member resolved into ownerMembers deletes", bob, CatalogEntityDelete, entityMembersOnly, true, "owners-write"},
		{"owning user deletes", bob, CatalogEntityDelete, userOwned, true, "owners-write"},
		// Another team does not.
		{"other team deletes", bob, CatalogEntityDelete, entity, false, ""},
		{"other team refreshes", bob, CatalogEntityRefresh, entity, false, ""},
		{"other team merges a change", bob, GitChangeMerge, entity, false, ""},
		{"other team reads", bob, CatalogEntityRead, entity, true, "signed-in-read"},
		{"look-alike group deletes", mallory, CatalogEntityDelete, entity, false, ""},
		{"nobody owns an unowned entity", alice, CatalogEntityDelete, unowned, false, ""},
		// Templates restrict who runs them.
		{"anyone signed in runs an open template", bob, ScaffolderTaskCreate, openTemplate, true, "template-allowed-groups"},
		{"allowed group runs a restricted template", bob, ScaffolderTaskCreate, teamBOnly, true, "template-allowed-groups"},
		{"other group runs a restricted template", alice, ScaffolderTaskCreate, teamBOnly, false, ""},
		// Tasks: their creator controls them.
		{"creator cancels", carol, ScaffolderTaskCancel, task, true, "task-creator-controls"},
		{"creator retries", carol, ScaffolderTaskRetry, task, true, "task-creator-controls"},
		{"other cancels", bob, ScaffolderTaskCancel, task, false, ""},
		{"other retries", alice, ScaffolderTaskRetry, task, false, ""},
		{"platform cancels", pat, ScaffolderTaskCancel, task, true, "platform-operates"},
		// Approvals: the named approvers, never the creator unless allowed.
		{"approver by name decides", dave, ScaffolderApprovalDecide, step, true, "named-approvers-decide"},
		{"approver by group decides", erin, ScaffolderApprovalDecide, step, true, "named-approvers-decide"},
		{"creator decides own step", carol, ScaffolderApprovalDecide, step, false, "no-self-approval"},
		{"creator named as approver still denied", carol, ScaffolderApprovalDecide, stepCreatorNamed, false, "no-self-approval"},
		{"creator decides when self-approval allowed", carol, ScaffolderApprovalDecide, stepSelfAllowed, true, "named-approvers-decide"},
		{"unnamed user decides", alice, ScaffolderApprovalDecide, step, false, ""},
		{"platform does not decide approvals", pat, ScaffolderApprovalDecide, step, false, ""},
		{"platform decides a step naming no approvers", pat, ScaffolderApprovalDecide, stepUnnamed, true, "platform-decides-unnamed-approvals"},
		{"others do not decide a step naming no approvers", bob, ScaffolderApprovalDecide, stepUnnamed, false, ""},
		{"platform creator does not decide its own unnamed step", pat, ScaffolderApprovalDecide, stepUnnamedByPat, false, "no-self-approval"},
		// Migrations belong to the platform group.
		{"platform creates a migration", pat, MigrationCreate, migration, true, "platform-operates"},
		{"platform dry-runs a migration", pat, MigrationDryRun, migration, true, "platform-operates"},
		{"platform controls a migration", pat, MigrationControl, migration, true, "platform-operates"},
		{"other dry-runs a migration", bob, MigrationDryRun, migration, false, ""},
		{"other controls a migration", alice, MigrationControl, migration, false, ""},
		{"platform registers a location", pat, CatalogLocationCreate, location, true, "platform-operates"},
		{"platform writes a policy", pat, PolicyWrite, policy, true, "platform-operates"},
		{"platform deletes any entity", pat, CatalogEntityDelete, entity, true, "platform-operates"},
		{"platform reads audit", pat, AuditRead, audit, false, ""},
		// Audit reads to the auditors.
		{"auditor reads audit", audrey, AuditRead, audit, true, "auditors-read-audit"},
		{"auditor deletes an entity", audrey, CatalogEntityDelete, entity, false, ""},
		{"owner reads audit", alice, AuditRead, audit, false, ""},
		// Subscriptions.
		{"signed-in creates a subscription", alice, EventsSubscriptionCreate, subscription, true, "signed-in-subscribe"},
		{"creator reads a subscription", bob, EventsSubscriptionRead, subscription, true, "subscription-creator"},
		{"creator deletes a subscription", bob, EventsSubscriptionDelete, subscription, true, "subscription-creator"},
		{"other deletes a subscription", alice, EventsSubscriptionDelete, subscription, false, ""},
		{"platform deletes a subscription", pat, EventsSubscriptionDelete, subscription, true, "platform-operates"},
		// Service tokens act through their groups.
		{"CI token reports facts for its team", ciToken, FactsReport, entity, true, "owners-write"},
		{"CI token refreshes its team's entity", ciToken, CatalogEntityRefresh, entity, true, "owners-write"},
		{"CI token starts a migration", ciToken, MigrationCreate, migration, false, ""},
		{"CI token delivers a git hook", ciToken, GitHookReceive, hook, false, ""},
		{"hook token delivers a git hook", hookToken, GitHookReceive, hook, true, "git-hooks-deliver"},
		{"hook token deletes an entity", hookToken, CatalogEntityDelete, entity, false, ""},
		// Permissions added with the API's wiring.
		{"guest reads git repositories", guest, GitRepoRead, nil, true, "signed-in-read"},
		{"anyone signed in dry-runs an open template", bob, ScaffolderTaskDryRun, openTemplate, true, "template-allowed-groups"},
		{"other group dry-runs a restricted template", alice, ScaffolderTaskDryRun, teamBOnly, false, ""},
		{"owner declares a fact source", alice, FactsSourceDeclare, Resource{"kind": "FactSource", "ref": "ci"}, false, ""},
		{"platform declares a fact source", pat, FactsSourceDeclare, Resource{"kind": "FactSource", "ref": "ci"}, true, "platform-operates"},
		{"creator replays a dead letter", bob, EventsSubscriptionReplay, subscription, true, "subscription-creator"},
		{"other replays a dead letter", alice, EventsSubscriptionReplay, subscription, false, ""},
		// Unknown permissions are denied.
		{"unknown permission", pat, Permission("catalog.entity.explode"), entity, false, ""},
	}
	if len(cases) < 40 {
		t.Fatalf("the matrix has %d rows, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := e.Decide(c.principal, c.action, c.resource)
			if d.Allowed != c.allowed || d.Rule != c.rule {
				t.Errorf("Decide(%s, %s, %v) = {allowed %v, rule %q, %s}, want {allowed %v, rule %q}",
					c.principal.Ref, c.action, c.resource["ref"], d.Allowed, d.Rule, d.Reason, c.allowed, c.rule)
			}
			if !strings.Contains(d.Reason, string(c.action)) {
				t.Errorf("reason %q does not name the permission %s", d.Reason, c.action)
			}
		})
	}
}

func TestDefaultPolicyParams(t *testing.T) {
	t.Parallel()
	e, err := Default(map[string]string{"platformGroup": "group:default/sre", "auditorsGroup": "group:default/compliance"})
	if err != nil {
		t.Fatal(err)
	}
	sre := Principal{Ref: "user:default/sam", Groups: []string{"group:default/sre"}}
	if d := e.Decide(sre, MigrationCreate, migration); !d.Allowed || d.Rule != "platform-operates" {
		t.Errorf("sre creates a migration: %+v", d)
	}
	if d := e.Decide(pat, MigrationCreate, migration); d.Allowed {
		t.Errorf("the default platform group still creates migrations once overridden: %+v", d)
	}
	comp := Principal{Ref: "user:default/cy", Groups: []string{"group:default/compliance"}}
	if d := e.Decide(comp, AuditRead, audit); !d.Allowed {
		t.Errorf("compliance reads audit: %+v", d)
	}
	if _, err := Default(map[string]string{"platfromGroup": "x"}); err == nil || !strings.Contains(err.Error(), "params.platfromGroup") {
		t.Errorf("a misspelled parameter: err = %v, want one naming params.platfromGroup", err)
	}
}
