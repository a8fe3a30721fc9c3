package webui

import (
	"net/http"
	"net/url"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/scaffolder"
)

func init() {
	Register(Page{Pattern: "GET /create/tasks/{id}", Section: "create", Template: "create_task.html",
		Permission: permission.ScaffolderTaskRead, Load: loadTask})
	Register(Page{Pattern: "POST /create/tasks/{id}/{op}", Section: "create",
		Permission: permission.ScaffolderTaskRead, Method: postTask})
}

// taskLogLines is how many of a task's last log lines the page shows.
const taskLogLines = 500

// taskData is what create_task.html shows.
type taskData struct {
	Task       scaffolder.TaskState
	Ended      bool
	Log        []scaffolder.LogLine
	LogCut     int
	Links      []outputLink
	Texts      []outputText
	CanApprove bool
	CanCancel  bool
	CanRetry   bool
	Done       string
	Subject    string
}

// outputLink is one of a finished task's output links.
type outputLink struct {
	Title, URL, Entity string
	// Text is set for a location a browser cannot open (file:, git:):
	// shown, not linked.
	Text bool
}

// outputText is one of a finished task's output texts.
type outputText struct {
	Title, Content string
}

// loadTask answers a task's page: its steps with their status, its log,
// the approval it waits for, its output links, and the buttons the
// principal may use. The page follows the task's events and refreshes
// itself while the task runs.
func loadTask(s *Server, r *Request) (any, string, error) {
	tr, err := s.taskRunner()
	if err != nil {
		return nil, "", err
	}
	id := r.PathValue("id")
	st, err := tr.Task(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	d := &taskData{Task: st, Done: r.URL.Query().Get("done"), Subject: "task:" + id}
	switch st.Status {
	case scaffolder.StatusCompleted, scaffolder.StatusFailed, scaffolder.StatusCancelled:
		d.Ended = true
	}
	d.Log = st.Log
	if len(d.Log) > taskLogLines {
		d.LogCut = len(d.Log) - taskLogLines
		d.Log = d.Log[d.LogCut:]
	}
	d.Links, d.Texts = outputOf(st.Output)
	res := permission.TaskResource(st.ID, st.User)
	d.CanCancel = !d.Ended && s.allowed(r, permission.ScaffolderTaskCancel, res)
	d.CanRetry = (st.Status == scaffolder.StatusFailed || st.Status == scaffolder.StatusCancelled) && s.allowed(r, permission.ScaffolderTaskRetry, res)
	if st.Waiting != nil {
		d.CanApprove = s.allowed(r, permission.ScaffolderApprovalDecide, s.approvalResource(r, st))
	}
	title := "Task " + shortID(st.ID)
	if st.Template != "" {
		title = refName(st.Template) + " · task " + shortID(st.ID)
	}
	return d, title, nil
}

// approvalResource is the approval step a task waits in, as the permission
// policy sees it: the approvers and selfApproval its template's step input
// names.
func (s *Server) approvalResource(r *Request, st scaffolder.TaskState) permission.Resource {
	var approvers []string
	self := false
	if st.Waiting != nil {
		if views, err := s.cfg.Catalog.ByKeys(r.Context(), []string{strings.ToLower(st.Template)}); err == nil && len(views) > 0 && views[0] != nil {
			if t, err := scaffolder.FromEntity(views[0].Ref, views[0].Body); err == nil {
				for _, step := range t.Steps {
					if step.ID == st.Waiting.StepID {
						approvers = stringList(step.Input["approvers"])
						self = step.Input["selfApproval"] == true
					}
				}
			}
		}
	}
	stepID := ""
	if st.Waiting != nil {
		stepID = st.Waiting.StepID
	}
	return permission.ApprovalResource(st.ID, stepID, st.User, approvers, self)
}

// outputOf reads a task's output: its links (url or entityRef) and texts.
func outputOf(out map[string]any) ([]outputLink, []outputText) {
	var links []outputLink
	var texts []outputText
	for _, l := range anyList(out["links"]) {
		m, _ := l.(map[string]any)
		if m == nil {
			continue
		}
		ol := outputLink{Title: strOf(m["title"]), URL: strOf(m["url"]), Entity: strOf(m["entityRef"])}
		if ol.Entity != "" {
			ol.URL = entityURL(ol.Entity)
		}
		if ol.URL == "" {
			continue
		}
		if ol.Title == "" {
			ol.Title = ol.URL
		}
		ol.Text = !strings.HasPrefix(ol.URL, "/") && !strings.HasPrefix(ol.URL, "http://") && !strings.HasPrefix(ol.URL, "https://")
		links = append(links, ol)
	}
	for _, t := range anyList(out["text"]) {
		m, _ := t.(map[string]any)
		if m != nil {
			texts = append(texts, outputText{Title: strOf(m["title"]), Content: strOf(m["content"])})
		}
	}
	return links, texts
}

// postTask answers a task page's buttons: cancel, retry, and approve or
// reject (op approval, with decision and comment), each checked against
// its own permission, then leads back to the task's page.
func postTask(s *Server, w http.ResponseWriter, r *Request) error {
	if err := checkWrite(r.Request); err != nil {
		return err
	}
	tr, err := s.taskRunner()
	if err != nil {
		return err
	}
	id, op := r.PathValue("id"), r.PathValue("op")
	st, err := tr.Task(r.Context(), id)
	if err != nil {
		return err
	}
	res := permission.TaskResource(st.ID, st.User)
	var msg string
	switch op {
	case "cancel":
		if err := s.may(r, permission.ScaffolderTaskCancel, res); err != nil {
			return err
		}
		err, msg = tr.Cancel(r.Context(), r.Principal.Ref, id), "Cancelled."
	case "retry":
		if err := s.may(r, permission.ScaffolderTaskRetry, res); err != nil {
			return err
		}
		err, msg = tr.Retry(r.Context(), r.Principal.Ref, id), "Retrying from the failed step."
	case "approval":
		if err := s.may(r, permission.ScaffolderApprovalDecide, s.approvalResource(r, st)); err != nil {
			return err
		}
		decision := r.FormValue("decision")
		if decision != "approve" && decision != "reject" {
			return fault.New(fault.Invalid, "decision", "decision=%q: want approve or reject", decision)
		}
		a := scaffolder.Approval{Approved: decision == "approve", By: r.Principal.Ref, Comment: strings.TrimSpace(r.FormValue("comment"))}
		err = tr.Decide(r.Context(), id, a)
		msg = "Rejected."
		if a.Approved {
			msg = "Approved."
		}
	default:
		return fault.New(fault.NotFound, op, "a task has no button %q", op)
	}
	if err != nil {
		return err
	}
	seeOther(w, r, withFlash("/create/tasks/"+url.PathEscape(id), msg))
	return nil
}

// shortID is the first eight characters of an id.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
