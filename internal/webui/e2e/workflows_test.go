package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/temporalsrv"
	"backlot.dev/backlot/workflows/githost"
)

// approvalStep is the step the tests add to the example template, so a
// task waits for someone to approve it before it publishes anything.
const approvalStep = `  steps:
    - id: approve
      name: Approval
      action: backlot:approval
      input:
        message: A platform engineer approves the new service
        # In dev the guest both creates the task and decides its approval,
        # which the default permission policy allows only when the step says so.
        selfApproval: true
`

// guestServer starts a backlot dev of its own for the Create, Migrations,
// Scorecards and Audit tests: no authenticator (everyone is the guest, who
// may do everything, as in make run), the example catalog, policies and
// template (with an approval step), and a fleet of git repositories on its
// local git host for the example migration: three that exist and one
// (fleet-late) that the test creates only after its first attempt failed.
func guestServer(t *testing.T) (*server, *githost.Local, string) {
	t.Helper()
	root := t.TempDir()
	examples, err := filepath.Abs("../../../examples")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(root, "go-service")
	if err := os.CopyFS(tmpl, os.DirFS(filepath.Join(examples, "templates", "go-service"))); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(tmpl, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withApproval := strings.Replace(string(body), "  steps:\n", approvalStep, 1)
	if withApproval == string(body) {
		t.Fatal("the example template has no steps: line to add the approval to")
	}
	if err := os.WriteFile(filepath.Join(tmpl, "template.yaml"), []byte(withApproval), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	host, err := githost.NewLocal(filepath.Join(data, "repos"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, name := range []string{"fleet-1", "fleet-2", "fleet-3", "fleet-late"} {
		remote := "file://" + filepath.Join(data, "repos", "team-a", name+".git")
		if name != "fleet-late" {
			remote = publishRepo(t, host, name).RemoteURL
		}
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  annotations:\n"+
			"    backstage.io/source-location: url:%s?ref=main\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/platform-team\n  system: shipping\n", name, remote))
	}
	fleet := filepath.Join(root, "fleet.yaml")
	if err := os.WriteFile(fleet, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := app.DevConfig{
		DataDir: data, Addr: "127.0.0.1:0",
		Catalogs: []string{
			filepath.Join(examples, "catalog", "all.yaml"),
			filepath.Join(examples, "policies", "test-certification.yaml"),
			filepath.Join(examples, "policies", "production-readiness.yaml"),
			filepath.Join(tmpl, "template.yaml"),
			fleet,
		},
		Roots:           []string{examples, root},
		RefreshInterval: time.Hour,
		Temporal: func(ctx context.Context, db, addr string) (string, func() error, error) {
			s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: addr})
			if err != nil {
				return "", nil, err
			}
			return s.Addr(), s.Stop, nil
		},
		TemporalAddr: "127.0.0.1:0",
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg.Scripts.Insecure = !haveBwrap()
	d, err := app.StartDev(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	select {
	case <-d.Loaded():
	case <-time.After(90 * time.Second):
		t.Fatal("the example catalog did not load within 90s")
	}
	if err := d.LoadErr(); err != nil {
		t.Fatal(err)
	}
	return &server{dev: d, base: "http://" + d.Addr()}, host, examples
}

// publishRepo creates team-a/name on the local git host with a README.
func publishRepo(t *testing.T, host *githost.Local, name string) githost.Repo {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("# "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := host.CreateRepo(context.Background(), "team-a", name, "main", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Publish(context.Background(), r, src, "Initial commit", ""); err != nil {
		t.Fatal(err)
	}
	return r
}

// status is the status code of a GET of path on the server.
func (s *server) status(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// setField sets a form field's value and tells the page it changed, as a
// person leaving the field does.
func (b *browser) setField(t *testing.T, sel, value string) {
	t.Helper()
	b.do(t, chromedp.SetValue(chromedp.CSS(sel), value))
	eval[bool](t, b, fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true}))`, sel))
}

// TestPortalWorkflows runs the golden path through the portal: the example
// template through its form (with an inline error, a review and an
// approval) to a registered component; the example migration from its
// spec file, previewed, started, followed live to its end with a failed
// repository retried; the scorecards and the audit trail of it all. Each
// page is photographed at two widths and checked by axe-core.
func TestPortalWorkflows(t *testing.T) {
	srv, host, examples := guestServer(t)
	b := newBrowser(t, srv)
	// An instant after the example catalog loaded and before the tests
	// change anything (the audit test reads the catalog then).
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond)
	var taskID string

	t.Run("create", func(t *testing.T) {
		b.open(t, "/create")
		b.waitText(t, "#results", "Go service", 10*time.Second)
		b.typeInto(t, "#tq", "golden")
		b.waitText(t, "#results", "Go service", 10*time.Second)
		b.shot(t, "create")
		b.axe(t, "create")

		b.click(t, `#results a[href="/create/templates/default/go-service"]`)
		b.waitText(t, "#h-page", "The service", 10*time.Second)
		if got := eval[string](t, b, `document.getElementById("f-port").value`); got != "8080" {
			t.Fatalf("the port field shows %q, want the template's default 8080", got)
		}
		if n := b.count(t, `#f-owner-list option[value="group:default/platform-team"]`); n != 1 {
			t.Fatalf("the OwnerPicker lists platform-team %d times", n)
		}
		// The picker asks the server for the groups and users whose name
		// starts with what is typed, and its list narrows to them: it held
		// every group and user of the example catalog before.
		if n := b.count(t, "#f-owner-list option"); n < 10 {
			t.Fatalf("the empty OwnerPicker offers %d groups and users, want every one of the example catalog", n)
		}
		b.typeInto(t, "#f-owner", "platf")
		b.waitText(t, "#f-owner-n", "1 match.", 10*time.Second)
		if got := eval[[]string](t, b, `Array.from(document.querySelectorAll("#f-owner-list option")).map(function (o) { return o.value })`); strings.Join(got, " ") != "group:default/platform-team" {
			t.Fatalf("after typing platf the OwnerPicker offers %v, want platform-team alone", got)
		}
		b.axe(t, "create-form-picker")
		// Inline check: the template's own message, without leaving the page.
		b.setField(t, "#f-name", "Not A Name")
		b.waitText(t, "#f-name-e", "does not match pattern", 10*time.Second)
		b.setField(t, "#f-name", "ui-payments")
		deadline := time.Now().Add(10 * time.Second)
		for b.text(t, "#f-name-e") != "" && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if got := b.text(t, "#f-name-e"); got != "" {
			t.Fatalf("the name's error stays after a good name: %q", got)
		}
		b.setField(t, "#f-owner", "group:default/platform-team")
		b.setField(t, "#f-description", "Payments, made through the portal")
		b.setField(t, "#f-system", "shipping")
		b.shot(t, "create-form")
		b.axe(t, "create-form")
		b.click(t, `button[value="next"]`)
		b.waitText(t, "#h-page", "The repository", 10*time.Second)
		b.setField(t, "#f-repoUrl-owner", "team-a")
		b.setField(t, "#f-repoUrl-repo", "ui-payments")
		b.click(t, `button[value="next"]`)
		b.waitText(t, "#h-page", "Review", 10*time.Second)
		b.waitText(t, "main table", "local?owner=team-a&repo=ui-payments", 5*time.Second)
		b.shot(t, "create-review")
		b.axe(t, "create-review")

		b.click(t, `button[value="create"]`)
		b.waitText(t, "#task-approval", "Waiting for approval", 60*time.Second)
		loc := b.location(t)
		i := strings.Index(loc, "/create/tasks/")
		if i < 0 {
			t.Fatalf("Create led to %s, not a task page", loc)
		}
		taskID = loc[i+len("/create/tasks/"):]
		b.shot(t, "task-approval")
		b.axe(t, "task-approval")
		b.typeInto(t, "#comment", "Looks right")
		b.click(t, `button[value="approve"]`)
		b.waitText(t, "[data-task-status]", "completed", 90*time.Second)
		b.waitText(t, "#task", "Approved by "+app.DevActor, 5*time.Second)
		b.waitText(t, "#task", "Open in catalog", 5*time.Second)
		if got := srv.status(t, "/api/catalog/entities/by-name/component/default/ui-payments"); got != http.StatusOK {
			t.Fatalf("the new component is not in the catalog: %d", got)
		}
		b.shot(t, "task")
		b.axe(t, "task")

		// Another task: rejected with a comment, retried from its failed
		// step (the approval, which waits again), then cancelled.
		var created struct {
			ID string `json:"id"`
		}
		srv.api(t, http.MethodPost, "/api/scaffolder/v2/tasks", map[string]any{"templateRef": "template:default/go-service",
			"values": map[string]any{"name": "ui-rejected", "owner": "group:default/platform-team", "repoUrl": "local?owner=team-a&repo=ui-rejected"}}, &created)
		b.open(t, "/create/tasks/"+created.ID)
		b.waitText(t, "#task-approval", "Waiting for approval", 60*time.Second)
		b.typeInto(t, "#comment", "Not this quarter")
		b.click(t, `button[value="reject"]`)
		b.waitText(t, "[data-task-status]", "failed", 30*time.Second)
		b.waitText(t, "#task", "Not this quarter", 5*time.Second)
		b.click(t, `form[action$="/retry"] button`)
		b.waitText(t, "#task-approval", "Waiting for approval", 60*time.Second)
		b.click(t, `form[action$="/cancel"] button`)
		b.waitText(t, "[data-task-status]", "cancelled", 30*time.Second)
		if got := srv.status(t, "/api/catalog/entities/by-name/component/default/ui-rejected"); got != http.StatusNotFound {
			t.Fatalf("the rejected and cancelled task registered its component: %d", got)
		}
	})

	t.Run("migrations", func(t *testing.T) {
		b.open(t, "/migrations/new")
		spec, err := filepath.Abs(filepath.Join(examples, "migrations", "add-codeowners.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		b.do(t, chromedp.SetUploadFiles(chromedp.CSS("#specfile"), []string{spec}))
		b.click(t, `button[value="preview"]`)
		b.waitText(t, "#h-preview", "Preview of add-codeowners", 90*time.Second)
		for _, name := range []string{"fleet-1", "ui-payments"} {
			if n := b.count(t, fmt.Sprintf(`section.preview[aria-label="Preview of component:default/%s"] .dl-add`, name)); n == 0 {
				t.Fatalf("the preview of %s shows no added line", name)
			}
		}
		if n := b.count(t, `section.preview[aria-label="Preview of component:default/fleet-late"] .note-bad`); n != 1 {
			t.Fatal("the preview of fleet-late, whose repository does not exist yet, shows no error")
		}
		b.shot(t, "migration-preview")
		b.axe(t, "migration-preview")

		b.click(t, `button[value="start"]`)
		b.do(t, chromedp.WaitVisible(chromedp.CSS("[data-migration-state]")))
		// From here the page is not reloaded: it follows the migration live.
		eval[bool](t, b, `window.__stay = true`)
		b.waitText(t, "#migration", "Retry failed", 120*time.Second)
		if got := b.text(t, `[data-count="failed"]`); got != "1" {
			t.Fatalf("failed repositories: %q, want fleet-late alone", got)
		}
		if !eval[bool](t, b, `window.__stay === true`) {
			t.Fatal("the migration page reloaded instead of updating live")
		}
		b.waitText(t, `tr[data-ref="component:default/fleet-late"]`, "failed", 5*time.Second)
		b.shot(t, "migration-failed")
		b.axe(t, "migration-failed")

		publishRepo(t, host, "fleet-late")
		b.click(t, `button[data-op="retry-failed"]`)
		b.waitText(t, "main", "Asked to retry failed", 10*time.Second)
		if b.count(t, `button[data-op="resume"]`) > 0 {
			b.click(t, `button[data-op="resume"]`)
		}
		eval[bool](t, b, `window.__stay = true`)
		b.waitText(t, "[data-migration-state]", "completed", 120*time.Second)
		b.waitText(t, `tr[data-ref="component:default/fleet-late"]`, "merged", 10*time.Second)
		if !eval[bool](t, b, `window.__stay === true`) {
			t.Fatal("the migration page reloaded instead of updating live")
		}
		if b.count(t, `[data-count="failed"]`) != 0 {
			t.Fatalf("a repository still failed: %s", b.text(t, ".counts"))
		}
		b.shot(t, "migration")
		b.axe(t, "migration")
		b.open(t, "/migrations")
		b.waitText(t, "#migrations", "add-codeowners", 5*time.Second)
		b.shot(t, "migrations")
		b.axe(t, "migrations")
	})

	t.Run("scorecards", func(t *testing.T) {
		b.open(t, "/scorecards")
		b.waitText(t, "#scorecards", "Test certification", 10*time.Second)
		b.shot(t, "scorecards")
		b.axe(t, "scorecards")
		b.open(t, "/scorecards/test-certification?entity=component:default/tracking-service")
		b.waitText(t, "#h-levels", "rated", 10*time.Second)
		if n := b.count(t, "#scorecard tr[data-entity]"); n == 0 {
			t.Fatal("no rated entity listed")
		}
		if n := b.count(t, "#scorecard svg.chart"); n < 2 {
			t.Fatalf("%d charts, want the trend and a campaign's burndown", n)
		}
		md := eval[string](t, b, `document.getElementById("snippet-md").value`)
		if !strings.Contains(md, "/api/badges/component/default/tracking-service/test-certification.svg") {
			t.Fatalf("badge snippet %q", md)
		}
		if got := srv.status(t, "/api/badges/component/default/tracking-service/test-certification.svg"); got != http.StatusOK {
			t.Fatalf("the snippet's badge answers %d", got)
		}
		b.shot(t, "scorecard")
		b.axe(t, "scorecard")
	})

	t.Run("audit", func(t *testing.T) {
		if taskID == "" {
			t.Fatal("the create test ran no task to audit")
		}
		b.open(t, "/audit?correlation="+url.QueryEscape(taskID))
		b.waitText(t, "#audit-events", "backlot.scaffolder.task.started.v1", 10*time.Second)
		b.waitText(t, "#audit-events", "component:default/ui-payments", 5*time.Second)
		b.waitText(t, "main", "These are the events of task", 5*time.Second)
		b.shot(t, "audit")
		b.axe(t, "audit")

		b.open(t, "/audit/catalog?at="+url.QueryEscape(before))
		b.waitText(t, "main", "as it was at", 10*time.Second)
		if n := b.count(t, `tr[data-ref="component:default/ui-payments"]`); n != 0 {
			t.Fatal("the catalog before the task already holds ui-payments")
		}
		b.open(t, "/audit/catalog?at="+url.QueryEscape(before)+"&q=tracking")
		b.waitText(t, "main table", "tracking-service", 10*time.Second)
		b.shot(t, "audit-catalog")
		b.axe(t, "audit-catalog")

		b.open(t, "/audit/diff?from="+url.QueryEscape(before)+"&to="+url.QueryEscape(time.Now().UTC().Add(time.Second).Format(time.RFC3339)))
		b.waitText(t, "main", "component:default/ui-payments", 10*time.Second)
		b.shot(t, "audit-diff")
		b.axe(t, "audit-diff")

		b.click(t, `form[action="/audit/verify"] button`)
		b.waitText(t, "[data-verify]", "nothing was deleted, altered or moved", 30*time.Second)
		b.shot(t, "audit-verify")
		b.axe(t, "audit-verify")
	})
}
