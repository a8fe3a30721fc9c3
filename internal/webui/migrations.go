package webui

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/migration"
)

func init() {
	Register(Page{Pattern: "GET /migrations", Section: "migrations", Template: "migrations.html",
		Permission: permission.MigrationRead, Load: loadMigrations})
	Register(Page{Pattern: "GET /migrations/new", Section: "migrations", Template: "migrations_new.html",
		Permission: permission.MigrationDryRun, Load: loadNewMigration})
	Register(Page{Pattern: "POST /migrations/new", Section: "migrations", Template: "migrations_new.html",
		Permission: permission.MigrationDryRun, Method: postNewMigration})
	Register(Page{Pattern: "GET /migrations/{id}", Section: "migrations", Template: "migrations_one.html",
		Permission: permission.MigrationRead, Load: loadMigration})
	Register(Page{Pattern: "POST /migrations/{id}/{op}", Section: "migrations",
		Permission: permission.MigrationControl, Method: postMigration})
}

// maxSpecBytes bounds a migration spec sent by the form (text or file).
const maxSpecBytes = 1 << 20

// migrationRowsPage is how many repositories a page of a migration's
// table shows.
const migrationRowsPage = 100

// migrationOps are the buttons of a migration's page, in order.
var migrationOps = []string{"pause", "resume", "cancel", "retry-failed", "close-prs"}

// migrationItem is one migration of the list, with its progress.
type migrationItem struct {
	migration.Report
	Total, Done, Failed int
}

// migrationsData is what migrations.html shows.
type migrationsData struct {
	Items     []migrationItem
	CanCreate bool
}

// loadMigrations answers the list of migrations, newest first.
func loadMigrations(s *Server, r *Request) (any, string, error) {
	mr, err := s.migrationRunner()
	if err != nil {
		return nil, "", err
	}
	list, err := mr.List(r.Context())
	if err != nil {
		return nil, "", err
	}
	d := &migrationsData{CanCreate: s.allowed(r, permission.MigrationDryRun, nil)}
	for _, m := range list {
		t, done := progressOf(m.Counts)
		d.Items = append(d.Items, migrationItem{Report: m, Total: t, Done: done, Failed: m.Counts[migration.StateFailed]})
	}
	return d, "Migrations", nil
}

// progressOf counts a migration's targets and those done (merged,
// unchanged or closed).
func progressOf(c map[migration.TargetState]int) (total, done int) {
	for st, n := range c {
		total += n
		switch st {
		case migration.StateMerged, migration.StateUnchanged, migration.StateClosed:
			done += n
		}
	}
	return total, done
}

// newMigrationData is what migrations_new.html shows: the spec and, after
// a dry run, each repository's diff.
type newMigrationData struct {
	Spec     string
	Plan     *migratesvc.Plan
	Previews []previewView
	Error    string
	CanStart bool
	Example  bool
}

// previewView is one repository of a dry run, its diff in lines.
type previewView struct {
	migration.Preview
	Lines []diffLine
}

// exampleSpec is the spec the form starts with: the example migration.
const exampleSpec = `apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: add-codeowners}
spec:
  targets:
    selector: entity.kind == "Component" && entity.spec.type == "service"
  change:
    script: |
      echo "* @${BACKLOT_OWNER}" > CODEOWNERS
    timeout: 2m
  pullRequest:
    branch: backlot/add-codeowners
    title: Add CODEOWNERS
    body: Adds CODEOWNERS to ${{ entity.metadata.name }}, owned by ${{ entity.spec.owner }}.
  rollout:
    maxConcurrent: 20
    waves: [5, 50]
    stopOnFailureRate: 0.2
  merge: auto
`

// loadNewMigration answers the form of a new migration.
func loadNewMigration(s *Server, r *Request) (any, string, error) {
	return &newMigrationData{Spec: exampleSpec, Example: true, CanStart: s.allowed(r, permission.MigrationCreate, nil)}, "New migration", nil
}

// postNewMigration previews (_action preview: the dry run on a worker,
// each repository's diff) or starts (_action start) the spec of the form:
// the textarea's, or the uploaded file's when one is chosen.
func postNewMigration(s *Server, w http.ResponseWriter, r *Request) error {
	if err := checkWrite(r.Request); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*maxSpecBytes)
	spec, err := specOf(r)
	if err != nil {
		return err
	}
	mr, err := s.migrationRunner()
	if err != nil {
		return err
	}
	d := &newMigrationData{Spec: spec, CanStart: s.allowed(r, permission.MigrationCreate, nil)}
	action := r.FormValue("_action")
	status := http.StatusOK
	switch action {
	case "preview":
		plan, err := mr.Start(r.Context(), r.Principal.Ref, []byte(spec), true)
		if err != nil {
			if fault.Of(err) == fault.Invalid || fault.Of(err) == fault.Unavailable {
				d.Error, status = err.Error(), http.StatusUnprocessableEntity
				break
			}
			return err
		}
		d.Plan = &plan
		for _, p := range plan.Previews {
			d.Previews = append(d.Previews, previewView{Preview: p, Lines: diffLines(p.Diff)})
		}
	case "start":
		if err := s.may(r, permission.MigrationCreate, nil); err != nil {
			return err
		}
		plan, err := mr.Start(r.Context(), r.Principal.Ref, []byte(spec), false)
		if err == nil {
			seeOther(w, r, withFlash("/migrations/"+url.PathEscape(plan.ID), fmt.Sprintf("Started on %s.", count(len(plan.Targets), "repository", "repositories"))))
			return nil
		}
		if fault.Of(err) != fault.Invalid {
			return err
		}
		d.Error, status = err.Error(), http.StatusUnprocessableEntity
	default:
		return fault.New(fault.Invalid, "_action", "_action=%q: want preview or start", action)
	}
	s.render(w, r.Request, r, Page{Section: "migrations", Template: "migrations_new.html"}, status, "New migration", d, 0)
	return nil
}

// specOf reads the spec of the form: the uploaded file when one was
// chosen, else the textarea.
func specOf(r *Request) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(maxSpecBytes); err != nil {
			return "", fault.New(fault.Invalid, "spec", "the form does not parse: %v", err)
		}
		if f, h, err := r.FormFile("specfile"); err == nil {
			defer f.Close()
			if h.Size > maxSpecBytes {
				return "", fault.New(fault.Invalid, "specfile", "%s is %d bytes; a spec is at most %d", h.Filename, h.Size, maxSpecBytes)
			}
			b, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
			if err != nil {
				return "", err
			}
			if len(b) > 0 {
				return string(b), nil
			}
		}
	} else if err := r.ParseForm(); err != nil {
		return "", fault.New(fault.Invalid, "spec", "the form does not parse: %v", err)
	}
	spec := r.FormValue("spec")
	if strings.TrimSpace(spec) == "" {
		return "", fault.New(fault.Invalid, "spec", "spec: paste a Migration spec or choose its file")
	}
	if len(spec) > maxSpecBytes {
		return "", fault.New(fault.Invalid, "spec", "spec: at most %d bytes", maxSpecBytes)
	}
	return spec, nil
}

// migrationData is what migrations_one.html shows.
type migrationData struct {
	R      migration.Report
	Total  int
	Done   int
	Pct    int
	Counts []stateCount
	Waves  []waveView
	Rows   []migration.TargetRow
	Pager  Pager
	State  State
	Filter string
	Chart  template.HTML
	Ops    []string
	Live   bool
	Flash  string
}

// stateCount is how many targets stand in a state, with the link that
// shows only them.
type stateCount struct {
	State string
	Count int
	URL   string
	On    bool
}

// waveView is one wave of a rollout.
type waveView struct {
	N, Size int
	Where   string
}

// loadMigration answers one migration's page: its progress bar, burndown,
// waves, a page of its repositories (filtered by state), and the buttons
// the principal may use. While it runs the page refreshes itself.
func loadMigration(s *Server, r *Request) (any, string, error) {
	mr, err := s.migrationRunner()
	if err != nil {
		return nil, "", err
	}
	rep, err := mr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, "", err
	}
	st := StateOf(r)
	flash := st.Get("done")
	// The message of the button just pressed is not part of the page's
	// state: its links leave it out.
	st.q.Del("done")
	d := &migrationData{R: rep, State: st, Filter: st.Get("state"), Flash: flash, Live: !rep.Finished()}
	d.Total, d.Done = progressOf(rep.Counts)
	if d.Total > 0 {
		d.Pct = d.Done * 100 / d.Total
	}
	for _, ts := range migration.TargetStates {
		if n := rep.Counts[ts]; n > 0 {
			sc := stateCount{State: string(ts), Count: n, URL: st.With("state", string(ts)), On: d.Filter == string(ts)}
			if sc.On {
				sc.URL = st.With("state", "")
			}
			d.Counts = append(d.Counts, sc)
		}
	}
	for i, size := range rep.Waves {
		w := waveView{N: i + 1, Size: size, Where: "next"}
		switch {
		case i+1 < rep.Wave:
			w.Where = "done"
		case i+1 == rep.Wave:
			w.Where = "current"
		}
		d.Waves = append(d.Waves, w)
	}
	var rows []migration.TargetRow
	for _, t := range rep.Targets {
		if d.Filter == "" || string(t.State) == d.Filter {
			rows = append(rows, t)
		}
	}
	page := st.Int("page", 1, 1, 1+len(rows)/migrationRowsPage)
	from := (page - 1) * migrationRowsPage
	d.Rows = rows[from:min(len(rows), from+migrationRowsPage)]
	d.Pager = Pager{Shown: len(d.Rows), Total: len(rows)}
	if page > 1 {
		d.Pager.Prev = st.With("page", fmt.Sprint(page-1))
	}
	if from+migrationRowsPage < len(rows) {
		d.Pager.Next = st.With("page", fmt.Sprint(page+1))
	}
	series := chartSeries{Label: "repositories not yet done", Class: "remaining"}
	for _, p := range rep.Burndown {
		series.Times, series.Vals = append(series.Times, p.Time), append(series.Vals, p.Remaining)
	}
	d.Chart = lineChart("Burndown of "+rep.Name, []chartSeries{series})
	if s.allowed(r, permission.MigrationControl, nil) {
		d.Ops = opsFor(rep)
	}
	return d, "Migration " + rep.Name, nil
}

// opsFor lists the buttons that make sense for a migration as it stands.
func opsFor(rep migration.Report) []string {
	var out []string
	ended := rep.State == migration.MigrationCompleted || rep.State == migration.MigrationCancelled
	open := rep.Counts[migration.StateOpened] + rep.Counts[migration.StateChecksPassed]
	for _, op := range migrationOps {
		ok := false
		switch op {
		case "pause":
			ok = !ended && !rep.Paused && !rep.Stopped
		case "resume":
			ok = !ended && (rep.Paused || rep.Stopped)
		case "cancel":
			ok = !ended
		case "retry-failed":
			ok = !ended && rep.Counts[migration.StateFailed] > 0
		case "close-prs":
			ok = open > 0
		}
		if ok {
			out = append(out, op)
		}
	}
	return out
}

// postMigration answers a migration's buttons (pause, resume, cancel,
// retry-failed, close-prs) and leads back to its page.
func postMigration(s *Server, w http.ResponseWriter, r *Request) error {
	if err := checkWrite(r.Request); err != nil {
		return err
	}
	mr, err := s.migrationRunner()
	if err != nil {
		return err
	}
	id, op := r.PathValue("id"), r.PathValue("op")
	known := false
	for _, o := range migrationOps {
		known = known || o == op
	}
	if !known {
		return fault.New(fault.NotFound, op, "a migration has no button %q", op)
	}
	if err := mr.Control(r.Context(), r.Principal.Ref, id, op); err != nil {
		return err
	}
	seeOther(w, r, withFlash("/migrations/"+url.PathEscape(id), "Asked to "+strings.ReplaceAll(op, "-", " ")+"."))
	return nil
}
