package security_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The permission attacks: every token of the token file signs in, and the
// default permission policy decides what each principal may do. Each refusal
// is answered 403 NotAllowedError naming the permission, and recorded as a
// backlot.permission.denied.v1 event an auditor reads back.

// denied is one backlot.permission.denied.v1 event as the audit API answers it.
type denied struct {
	Principal, Permission, Resource, Rule, Path string
}

// denialRecorded waits until the audit trail, read as the auditor, holds a
// denial of perm to who at path, and returns its rule. The serve target's
// audit reads Kafka, which the API's write reaches a little later.
func denialRecorded(t *testing.T, tg *target, who principal, perm, path string) string {
	t.Helper()
	q := url.Values{"type": {"backlot.permission.denied.v1"}, "actor": {who.ref}, "limit": {"1000"}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := tg.do(t, "GET", "/api/audit/events?"+q.Encode(), as(audrey))
		if a.status != http.StatusOK {
			t.Fatalf("the auditor reads the denials of %s: %s", who.ref, a)
		}
		var page struct {
			Items []struct {
				Event struct {
					Actor string
					Data  denied
				}
			}
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatalf("the audit page: %v: %s", err, a)
		}
		for _, it := range page.Items {
			d := it.Event.Data
			if it.Event.Actor == who.ref && d.Principal == who.ref && d.Permission == perm && d.Path == path {
				return d.Rule
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no backlot.permission.denied.v1 event of %s, %s at %s in the audit trail after 60s (%d denials of %s: %s)",
				who.ref, perm, path, len(page.Items), who.ref, tail(string(a.body), 600))
			return ""
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// refused checks that a is 403 NotAllowedError naming perm and the
// principal, and that the denial is in the audit trail; it returns the
// outcome in words.
func refused(t *testing.T, tg *target, who principal, what string, a answer, perm, path string) string {
	t.Helper()
	out := mustError(t, what, a, http.StatusForbidden, "NotAllowedError", perm, who.ref)
	rule := denialRecorded(t, tg, who, perm, path)
	if rule != "" {
		return out + " (audited, rule " + rule + ")"
	}
	return out + " (audited)"
}

// platformMigrations remembers the migration the platform token started on
// each target, for the reads of its report.
var platformMigrations sync.Map // *target → string (migration id)

func anyTokenStartsMigrations(t *testing.T, tg *target) string {
	var outs []string
	dry := tg.do(t, "POST", "/api/migrations?dryRun=true", as(ada), withJSON(migrationSpec("ada-dry", "echo ada > ADA.md")))
	outs = append(outs, "ada's dry run: "+refused(t, tg, ada, "a dry run by a token outside the platform group", dry, "migration.dryrun", "/api/migrations"))
	real := tg.do(t, "POST", "/api/migrations", as(ada), withJSON(migrationSpec("ada-run", "echo ada > ADA.md")))
	outs = append(outs, "ada's run: "+refused(t, tg, ada, "a migration by a token outside the platform group", real, "migration.create", "/api/migrations"))
	var changes struct {
		Items []json.RawMessage `json:"items"`
	}
	for i := range fleetSize {
		r := tg.do(t, "GET", fmt.Sprintf("/api/git/repos/team-a/svc-%03d/changes", i), withToken())
		json.Unmarshal(r.body, &changes)
		if r.status != http.StatusOK || len(changes.Items) != 0 {
			t.Errorf("svc-%03d: change requests %s after ada's refused migration, want none", i, r)
		}
	}

	// The control: the platform group may. Its run changes nothing, so it
	// opens no change request either.
	pdry := tg.do(t, "POST", "/api/migrations?dryRun=true", withToken(), withJSON(migrationSpec("platform-dry", "echo platform")))
	var plan struct {
		Previews []struct{ Ref, Output, Error string } `json:"previews"`
	}
	if err := json.Unmarshal(pdry.body, &plan); pdry.status != http.StatusOK || err != nil || len(plan.Previews) != fleetSize || !strings.Contains(plan.Previews[0].Output, "platform") {
		t.Errorf("the platform's dry run: %s, want 200 with %d previews saying platform", pdry, fleetSize)
	}
	prun := tg.do(t, "POST", "/api/migrations", withToken(), withJSON(migrationSpec("platform-run", "true")))
	var started struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(prun.body, &started); prun.status != http.StatusCreated || err != nil || started.ID == "" {
		t.Fatalf("the platform's migration: %s, want 201 with its id", prun)
	}
	platformMigrations.Store(tg, started.ID)
	outs = append(outs, fmt.Sprintf("the platform token: dry run %d, migration %d (%s)", pdry.status, prun.status, started.ID))
	return strings.Join(outs, "; ")
}

// gatedTask starts the gated template as who and waits until it waits for
// its approval.
func gatedTask(t *testing.T, tg *target, who principal) string {
	t.Helper()
	a := tg.do(t, "POST", "/api/scaffolder/v2/tasks", as(who), withJSON(map[string]any{"templateRef": "template:default/gated", "values": map[string]any{}}))
	var created struct{ ID string }
	if json.Unmarshal(a.body, &created); a.status != http.StatusCreated || created.ID == "" {
		t.Fatalf("%s creates a gated task: %s", who.ref, a)
	}
	waitTaskState(t, tg, created.ID, func(body string) bool { return strings.Contains(body, `"stepId":"approve"`) })
	return created.ID
}

// waitTaskState waits until the task's answer, read by the operator,
// satisfies ok, and returns it.
func waitTaskState(t *testing.T, tg *target, id string, ok func(body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := tg.do(t, "GET", "/api/scaffolder/v2/tasks/"+id, withToken())
		if r.status == http.StatusOK && ok(string(r.body)) {
			return string(r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s after 2 minutes: %s", id, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func selfApproval(t *testing.T, tg *target) string {
	id := gatedTask(t, tg, ada)
	path := "/api/scaffolder/v2/tasks/" + id + "/approval"
	yes := map[string]any{"approved": true, "comment": "lgtm"}
	self := tg.do(t, "POST", path, as(ada), withJSON(yes))
	out := "the creator approves: " + refused(t, tg, ada, "the creator approves its own task", self, "scaffolder.approval.decide", path)
	if _, msg := self.errorOf(); !strings.Contains(msg, "no-self-approval") {
		t.Errorf("the creator's approval: %q does not name the rule no-self-approval", msg)
	}
	other := tg.do(t, "POST", path, as(bob), withJSON(yes))
	out += "; a principal the step does not name: " + refused(t, tg, bob, "an approval by a principal the step does not name", other, "scaffolder.approval.decide", path)
	if !strings.Contains(waitTaskState(t, tg, id, func(string) bool { return true }), `"stepId":"approve"`) {
		t.Errorf("task %s no longer waits after two refused approvals", id)
	}
	// The control: the approver the step names decides, and the task ends.
	named := tg.do(t, "POST", path, as(alex), withJSON(yes))
	if named.status != http.StatusOK {
		t.Fatalf("the named approver approves: %s, want 200", named)
	}
	waitTaskState(t, tg, id, func(body string) bool { return strings.Contains(body, `"status":"completed"`) })
	return out + "; the named approver user:default/alex: 200, and the task completed"
}

func controlOthersTasks(t *testing.T, tg *target) string {
	id := gatedTask(t, tg, ada)
	task := "/api/scaffolder/v2/tasks/" + id
	var outs []string
	cancel := tg.do(t, "POST", task+"/cancel", as(bob))
	outs = append(outs, "another principal cancels: "+refused(t, tg, bob, "another principal cancels", cancel, "scaffolder.task.cancel", task+"/cancel"))
	if !strings.Contains(waitTaskState(t, tg, id, func(string) bool { return true }), `"stepId":"approve"`) {
		t.Errorf("task %s no longer waits after a refused cancel", id)
	}
	// The creator may cancel, and then retry.
	if r := tg.do(t, "POST", task+"/cancel", as(ada)); r.status != http.StatusOK {
		t.Fatalf("the creator cancels: %s, want 200", r)
	}
	waitTaskState(t, tg, id, func(body string) bool { return strings.Contains(body, `"status":"cancelled"`) })
	retry := tg.do(t, "POST", task+"/retry", as(bob))
	outs = append(outs, "another principal retries: "+refused(t, tg, bob, "another principal retries", retry, "scaffolder.task.retry", task+"/retry"))
	if r := tg.do(t, "POST", task+"/retry", as(ada)); r.status != http.StatusCreated {
		t.Fatalf("the creator retries: %s, want 201", r)
	}
	waitTaskState(t, tg, id, func(body string) bool {
		return strings.Contains(body, `"status":"processing"`) && strings.Contains(body, `"stepId":"approve"`)
	})
	// The platform group controls anyone's task.
	if r := tg.do(t, "POST", task+"/cancel", withToken()); r.status != http.StatusOK {
		t.Fatalf("the platform cancels ada's task: %s, want 200", r)
	}
	waitTaskState(t, tg, id, func(body string) bool { return strings.Contains(body, `"status":"cancelled"`) })
	if r := tg.do(t, "POST", task+"/retry", withToken()); r.status != http.StatusCreated {
		t.Fatalf("the platform retries ada's task: %s, want 201", r)
	}
	waitTaskState(t, tg, id, func(body string) bool {
		return strings.Contains(body, `"status":"processing"`) && strings.Contains(body, `"stepId":"approve"`)
	})
	if r := tg.do(t, "POST", task+"/cancel", withToken()); r.status != http.StatusOK {
		t.Fatalf("the platform cancels ada's retried task: %s, want 200", r)
	}
	outs = append(outs, "the creator and the platform group cancel and retry: 200 and 201")
	return strings.Join(outs, "; ")
}

func auditByNonAuditor(t *testing.T, tg *target) string {
	var outs []string
	for _, who := range []principal{ada, bob} {
		a := tg.do(t, "GET", "/api/audit/events", as(who))
		outs = append(outs, who.ref+": "+refused(t, tg, who, "a non-auditor reads the audit trail", a, "audit.read", "/api/audit/events"))
	}
	// The control: the auditor reads, and sees the denials above.
	a := tg.do(t, "GET", "/api/audit/events?type=backlot.permission.denied.v1&limit=1000", as(audrey))
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `"permission":"audit.read"`) {
		t.Errorf("the auditor reads the audit trail: %s, want 200 with the audit.read denials", a)
	}
	return strings.Join(outs, "; ") + fmt.Sprintf("; the auditor user:default/audrey: %d", a.status)
}
