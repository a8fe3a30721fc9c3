package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/scaffolder"
)

// Scaffolder runs templates as tasks (package scaffoldsvc on Temporal).
type Scaffolder interface {
	// Create checks the values against the template and starts a task.
	Create(ctx context.Context, actor, templateRef string, values map[string]any, secrets map[string]string) (string, error)
	// Task answers a task's state; scaffolder.ErrNoTask when there is none.
	Task(ctx context.Context, id string) (scaffolder.TaskState, error)
	// List lists the newest tasks (up to limit), newest first, and of those
	// the ones createdBy started (when set) that stand at status (when set).
	List(ctx context.Context, limit int, createdBy, status string) ([]scaffolder.TaskSummary, error)
	// Cancel cancels a task.
	Cancel(ctx context.Context, actor, id string) error
	// Retry runs a failed or cancelled task again from its failed step.
	Retry(ctx context.Context, actor, id string) error
	// Decide approves or rejects the approval step a task waits in.
	Decide(ctx context.Context, id string, a scaffolder.Approval) error
	// DryRun renders a template body (with its skeleton files, when given)
	// into a preview, changing nothing.
	DryRun(ctx context.Context, actor string, template json.RawMessage, values map[string]any, secrets map[string]string, files []scaffolder.File) (scaffolder.DryRunResult, error)
	// ParameterSchema answers the parameter pages of the template ref.
	ParameterSchema(ctx context.Context, ref string) (scaffolder.ParameterSchema, error)
}

const scaffolderPrefix = "/api/scaffolder/v2"

// scaffolderRoutes adds Backstage's scaffolder API and Backlot's approval.
func (s *server) scaffolderRoutes(mux *http.ServeMux) {
	p := scaffolderPrefix
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET "+p+"/actions", need(permission.ScaffolderTemplateRead, nil), s.scaffolderActions)
	route("GET "+p+"/templates/{namespace}/{kind}/{name}/parameter-schema", need(permission.ScaffolderTemplateRead, s.templateByPath), s.parameterSchema)
	route("POST "+p+"/tasks", needInHandler(permission.ScaffolderTaskCreate), s.createTask)
	route("GET "+p+"/tasks", needEach(permission.ScaffolderTaskRead), s.listTasks)
	route("GET "+p+"/tasks/{id}", need(permission.ScaffolderTaskRead, s.taskByPath), s.getTask)
	route("GET "+p+"/tasks/{id}/eventstream", need(permission.ScaffolderTaskRead, s.taskByPath), s.taskEventStream)
	route("GET "+p+"/tasks/{id}/events", need(permission.ScaffolderTaskRead, s.taskByPath), s.taskEvents)
	route("POST "+p+"/tasks/{id}/cancel", need(permission.ScaffolderTaskCancel, s.taskByPath), s.cancelTask)
	route("POST "+p+"/tasks/{id}/retry", need(permission.ScaffolderTaskRetry, s.taskByPath), s.retryTask)
	route("POST "+p+"/tasks/{id}/approval", need(permission.ScaffolderApprovalDecide, s.approvalByPath), s.decideTask)
	route("POST "+p+"/dry-run", needInHandler(permission.ScaffolderTaskDryRun), s.dryRun)
}

func (s *server) scaffolderService() (Scaffolder, error) {
	if s.cfg.Scaffolder == nil {
		return nil, categoryError(fault.Unavailable, "this server runs no workflows: start backlot dev, or backlot serve with BACKLOT_TEMPORAL_ADDRESS")
	}
	return s.cfg.Scaffolder, nil
}

func (s *server) scaffolderActions(w http.ResponseWriter, _ *http.Request) error {
	// A scaffolder with custom actions lists them after the built-in ones.
	acts := scaffolder.Actions()
	if d, ok := s.cfg.Scaffolder.(interface{ Actions() []scaffolder.Action }); ok {
		acts = d.Actions()
	}
	writeJSON(w, http.StatusOK, acts)
	return nil
}

func (s *server) parameterSchema(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	ref := r.PathValue("kind") + ":" + r.PathValue("namespace") + "/" + r.PathValue("name")
	schema, err := sc.ParameterSchema(r.Context(), ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, schema)
	return nil
}

func (s *server) createTask(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	var body struct {
		TemplateRef string            `json:"templateRef"`
		Values      map[string]any    `json:"values"`
		Secrets     map[string]string `json:"secrets"`
	}
	if err := s.decodeBody(w, r, &body, false); err != nil {
		return err
	}
	if body.TemplateRef == "" {
		return inputError("templateRef: required")
	}
	res, err := s.templateResource(r.Context(), body.TemplateRef)
	if err != nil {
		return err
	}
	if err := s.authorize(r, permission.ScaffolderTaskCreate, res); err != nil {
		return err
	}
	id, err := sc.Create(r.Context(), s.actor(r), body.TemplateRef, body.Values, body.Secrets)
	if err != nil {
		return err
	}
	w.Header().Set("Location", scaffolderPrefix+"/tasks/"+id)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

// taskJSON is a task in Backstage's shape, with Backlot's step states,
// output, error, approval wait and registered entities beside it.
func taskJSON(st scaffolder.TaskState) map[string]any {
	steps := make([]map[string]any, len(st.Steps))
	for i, s := range st.Steps {
		steps[i] = map[string]any{"id": s.ID, "name": s.Name, "action": s.Action}
	}
	out := map[string]any{
		"id": st.ID,
		"spec": map[string]any{
			"apiVersion":   scaffolder.APIVersion,
			"templateInfo": map[string]any{"entityRef": st.Template, "version": st.TemplateVersion},
			"steps":        steps,
			"user":         map[string]any{"ref": st.User},
		},
		"status":    st.Status,
		"createdBy": st.User,
		"steps":     st.Steps,
		"entities":  st.Entities,
		"attempt":   st.Attempt,
	}
	if len(st.Log) > 0 {
		out["createdAt"] = st.Log[0].CreatedAt
	}
	if len(st.Log) > 0 {
		out["lastHeartbeatAt"] = st.Log[len(st.Log)-1].CreatedAt
	}
	if st.Output != nil {
		out["output"] = st.Output
	}
	if st.Error != "" {
		out["error"] = map[string]any{"name": "Error", "message": st.Error, "step": st.FailedStep}
	}
	if st.Waiting != nil {
		out["waiting"] = st.Waiting
	}
	return out
}

func (s *server) listTasks(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	limit, _, err := parseInt(q, "limit")
	if err != nil {
		return err
	}
	list, err := sc.List(r.Context(), limit, q.Get("createdBy"), q.Get("status"))
	if err != nil {
		return err
	}
	tasks := []map[string]any{}
	keep := s.readable(r, permission.ScaffolderTaskRead)
	for _, t := range list {
		if keep != nil && !keep(permission.TaskResource(t.ID, t.User)) {
			continue
		}
		m := map[string]any{
			"id":        t.ID,
			"spec":      map[string]any{"templateInfo": map[string]any{"entityRef": t.Template}, "user": map[string]any{"ref": t.User}},
			"status":    t.Status,
			"createdAt": t.CreatedAt,
			"createdBy": t.User,
		}
		if !t.EndedAt.IsZero() {
			m["lastHeartbeatAt"] = t.EndedAt
		}
		tasks = append(tasks, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks, "totalTasks": len(tasks)})
	return nil
}

func (s *server) getTask(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	st, err := sc.Task(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, taskJSON(st))
	return nil
}

// taskEvent is a log line or the completion of a task, in the shape of
// Backstage's task events.
type taskEvent struct {
	ID        int            `json:"id"`
	TaskID    string         `json:"taskId"`
	Type      string         `json:"type"`
	Body      map[string]any `json:"body"`
	CreatedAt time.Time      `json:"createdAt"`
}

// eventsAfter returns the task's events after the id after: log lines, then
// the completion once the task ended.
func eventsAfter(st scaffolder.TaskState, after int) []taskEvent {
	var out []taskEvent
	for i, l := range st.Log {
		if i+1 <= after {
			continue
		}
		body := map[string]any{"message": l.Message}
		if l.StepID != "" {
			body["stepId"] = l.StepID
		}
		if l.Status != "" {
			body["status"] = l.Status
		}
		out = append(out, taskEvent{ID: i + 1, TaskID: st.ID, Type: "log", Body: body, CreatedAt: l.CreatedAt})
	}
	if ended(st.Status) && after <= len(st.Log) {
		body := map[string]any{"message": "Run " + st.Status, "status": st.Status}
		if st.Output != nil {
			body["output"] = st.Output
		}
		if st.Error != "" {
			body["error"] = map[string]any{"name": "Error", "message": st.Error}
		}
		at := time.Now().UTC()
		if len(st.Log) > 0 {
			at = st.Log[len(st.Log)-1].CreatedAt
		}
		out = append(out, taskEvent{ID: len(st.Log) + 1, TaskID: st.ID, Type: "completion", Body: body, CreatedAt: at})
	}
	return out
}

func ended(status string) bool {
	return status == scaffolder.StatusCompleted || status == scaffolder.StatusFailed || status == scaffolder.StatusCancelled
}

// taskEvents answers GET .../tasks/{id}/events?after=N, waiting up to 30 s
// for something new.
func (s *server) taskEvents(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := sc.Task(r.Context(), id)
		if err != nil {
			return err
		}
		evs := eventsAfter(st, after)
		if len(evs) > 0 || time.Now().After(deadline) {
			if evs == nil {
				evs = []taskEvent{}
			}
			writeJSON(w, http.StatusOK, evs)
			return nil
		}
		select {
		case <-r.Context().Done():
			return r.Context().Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// taskEventStream answers the task's log as Server-Sent Events: each line
// once (resume with Last-Event-ID or ?after=), then a completion event, and
// the stream ends.
func (s *server) taskEventStream(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, _ = strconv.Atoi(v)
	}
	st, err := sc.Task(r.Context(), id)
	if err != nil {
		return err
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	for {
		for _, ev := range eventsAfter(st, after) {
			raw, _ := json.Marshal(ev)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, raw)
			after = ev.ID
			if ev.Type == "completion" {
				if fl != nil {
					fl.Flush()
				}
				return nil
			}
		}
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		if st, err = sc.Task(r.Context(), id); err != nil {
			fmt.Fprintf(w, "event: error\ndata: %q\n\n", err.Error())
			return nil
		}
	}
}

func (s *server) cancelTask(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := sc.Cancel(r.Context(), s.actor(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": scaffolder.StatusCancelled})
	return nil
}

func (s *server) retryTask(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := sc.Retry(r.Context(), s.actor(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

// decideTask answers POST .../tasks/{id}/approval {"approved": bool, "comment": ""}.
func (s *server) decideTask(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	var body struct {
		Approved *bool  `json:"approved"`
		Comment  string `json:"comment"`
	}
	if err := s.decodeBody(w, r, &body, true); err != nil {
		return err
	}
	if body.Approved == nil {
		return inputError("approved: required, true or false")
	}
	id := r.PathValue("id")
	if err := sc.Decide(r.Context(), id, scaffolder.Approval{Approved: *body.Approved, By: s.actor(r), Comment: body.Comment}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"approved": *body.Approved})
	return nil
}

func (s *server) dryRun(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scaffolderService()
	if err != nil {
		return err
	}
	var body struct {
		Template          json.RawMessage   `json:"template"`
		Values            map[string]any    `json:"values"`
		Secrets           map[string]string `json:"secrets"`
		DirectoryContents []scaffolder.File `json:"directoryContents"`
	}
	if err := s.decodeBody(w, r, &body, false); err != nil {
		return err
	}
	if len(body.Template) == 0 {
		return inputError("template: required, a Template entity")
	}
	if err := s.authorize(r, permission.ScaffolderTaskDryRun, uploadedTemplate(body.Template)); err != nil {
		return err
	}
	res, err := sc.DryRun(r.Context(), s.actor(r), body.Template, body.Values, body.Secrets, body.DirectoryContents)
	if err != nil {
		return inputError("%v", err)
	}
	log := make([]map[string]any, len(res.Log))
	for i, l := range res.Log {
		log[i] = map[string]any{"body": map[string]any{"message": l.Message, "stepId": l.StepID, "status": l.Status}, "createdAt": l.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"log": log, "directoryContents": res.DirectoryContents, "output": res.Output, "steps": res.Steps})
	return nil
}
