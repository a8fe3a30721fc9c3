package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

func init() {
	funcs["count"] = count
}

// count says "1 thing" or "n things", the plural given.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// TaskRunner is what the Create and task pages ask of the scaffolder
// service beyond listing (scaffoldsvc's service does all of it, the same
// service the API uses). The portal finds it on Config.Tasks, so the
// foundation's Config keeps its one field.
type TaskRunner interface {
	Tasks
	// Create checks the values against the template and starts a task.
	Create(ctx context.Context, actor, templateRef string, values map[string]any, secrets map[string]string) (string, error)
	// Task answers a task's state.
	Task(ctx context.Context, id string) (scaffolder.TaskState, error)
	// Cancel cancels a task.
	Cancel(ctx context.Context, actor, id string) error
	// Retry runs a failed or cancelled task again from its failed step.
	Retry(ctx context.Context, actor, id string) error
	// Decide approves or rejects the approval step a task waits in.
	Decide(ctx context.Context, id string, a scaffolder.Approval) error
}

// MigrationRunner is what the Migrations pages ask of the migration
// service beyond listing (migratesvc's service, as the API uses it), found
// on Config.Migrations.
type MigrationRunner interface {
	Migrations
	// Start parses, validates and starts (or with dryRun previews) a spec.
	Start(ctx context.Context, actor string, spec []byte, dryRun bool) (migratesvc.Plan, error)
	// Get answers one migration's progress.
	Get(ctx context.Context, id string) (migration.Report, error)
	// Control pauses, resumes, cancels, retries the failed targets of, or
	// closes the change requests of a migration.
	Control(ctx context.Context, actor, id, op string) error
}

// noWorkflows is the error of a page whose service this server lacks.
var noWorkflows = fault.New(fault.Unavailable, "workflows", "this server runs no workflows: start backlot dev, or backlot serve with BACKLOT_TEMPORAL_ADDRESS")

// taskRunner returns the scaffolder service, or a fault.Unavailable error.
func (s *Server) taskRunner() (TaskRunner, error) {
	if t, ok := s.cfg.Tasks.(TaskRunner); ok {
		return t, nil
	}
	return nil, noWorkflows
}

// migrationRunner returns the migration service, or a fault.Unavailable
// error.
func (s *Server) migrationRunner() (MigrationRunner, error) {
	if m, ok := s.cfg.Migrations.(MigrationRunner); ok {
		return m, nil
	}
	return nil, noWorkflows
}

// checkWrite refuses a form POST another site sent (the browser says so in
// Origin or Sec-Fetch-Site), so a page elsewhere cannot act as the signed-in
// person. A request without either (curl, a test) passes.
func checkWrite(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fault.New(fault.Forbidden, "Origin", "a form of another site (%s) may not write here", site)
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return fault.New(fault.Forbidden, "Origin", "a form of %s may not write to %s", o, r.Host)
		}
	}
	return nil
}

// may reports whether the request's principal may act on resource, and
// when not, a fault.Forbidden error naming the permission and the reason.
func (s *Server) may(r *Request, action permission.Permission, resource permission.Resource) error {
	d := s.cfg.Decide(r.Principal, action, resource)
	if d.Allowed {
		return nil
	}
	return fault.New(fault.Forbidden, string(action), "%s needs the permission %s: %s", r.Principal.Ref, action, d.Reason)
}

// allowed is may as a bool, for showing a button or not.
func (s *Server) allowed(r *Request, action permission.Permission, resource permission.Resource) bool {
	return s.may(r, action, resource) == nil
}

// seeOther answers a form POST with a redirect to the page that shows its
// effect (Post/Redirect/Get).
func seeOther(w http.ResponseWriter, r *Request, to string) {
	http.Redirect(w, r.Request, to, http.StatusSeeOther)
}

// withFlash adds a message for the next page to show (?done=...).
func withFlash(path, msg string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "done=" + url.QueryEscape(msg)
}
