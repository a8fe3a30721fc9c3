package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"backlot.dev/backlot/domain/catalog"
)

// Task is a task as GET /api/scaffolder/v2/tasks/{id} answers it.
type Task struct {
	ID        string         `json:"id"`
	Status    string         `json:"status"`
	CreatedBy string         `json:"createdBy"`
	Steps     []StepState    `json:"steps"`
	Entities  []string       `json:"entities"`
	Output    map[string]any `json:"output"`
	Error     *struct {
		Message string `json:"message"`
		Step    string `json:"step"`
	} `json:"error"`
	Waiting *Waiting `json:"waiting"`
	Attempt int      `json:"attempt"`
	Spec    struct {
		TemplateInfo struct {
			EntityRef string `json:"entityRef"`
		} `json:"templateInfo"`
	} `json:"spec"`
}

// TaskEvent is one event of a task's log.
type TaskEvent struct {
	ID   int    `json:"id"`
	Type string `json:"type"`
	Body struct {
		Message string         `json:"message"`
		StepID  string         `json:"stepId"`
		Status  string         `json:"status"`
		Output  map[string]any `json:"output"`
	} `json:"body"`
}

// CreateTask starts a task of the template with the values and secrets.
func (c *Client) CreateTask(ctx context.Context, templateRef string, values map[string]any, secrets map[string]string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.apiJSON(ctx, http.MethodPost, scaffolderPrefix+"/tasks", map[string]any{"templateRef": templateRef, "values": values, "secrets": secrets}, &out)
	return out.ID, err
}

// Task reads a task.
func (c *Client) Task(ctx context.Context, id string) (Task, error) {
	var t Task
	err := c.apiJSON(ctx, http.MethodGet, scaffolderPrefix+"/tasks/"+url.PathEscape(id), nil, &t)
	return t, err
}

// TaskEvents waits (up to 30 s) for the task's events after the id after.
func (c *Client) TaskEvents(ctx context.Context, id string, after int) ([]TaskEvent, error) {
	var evs []TaskEvent
	err := c.apiJSON(ctx, http.MethodGet, scaffolderPrefix+"/tasks/"+url.PathEscape(id)+"/events?after="+strconv.Itoa(after), nil, &evs)
	return evs, err
}

// Tasks lists tasks as GET /v2/tasks answers them.
func (c *Client) Tasks(ctx context.Context) ([]map[string]any, error) {
	var out struct {
		Tasks []map[string]any `json:"tasks"`
	}
	err := c.apiJSON(ctx, http.MethodGet, scaffolderPrefix+"/tasks", nil, &out)
	return out.Tasks, err
}

// CancelTask cancels a task.
func (c *Client) CancelTask(ctx context.Context, id string) error {
	return c.apiJSON(ctx, http.MethodPost, scaffolderPrefix+"/tasks/"+url.PathEscape(id)+"/cancel", nil, nil)
}

// RetryTask retries a failed task from its failed step.
func (c *Client) RetryTask(ctx context.Context, id string) error {
	return c.apiJSON(ctx, http.MethodPost, scaffolderPrefix+"/tasks/"+url.PathEscape(id)+"/retry", nil, nil)
}

// DecideTask approves or rejects the approval a task waits for.
func (c *Client) DecideTask(ctx context.Context, id string, approved bool, comment string) error {
	return c.apiJSON(ctx, http.MethodPost, scaffolderPrefix+"/tasks/"+url.PathEscape(id)+"/approval", map[string]any{"approved": approved, "comment": comment}, nil)
}

// ParameterSchema reads a template's parameter pages.
func (c *Client) ParameterSchema(ctx context.Context, ref string) (ParameterSchema, error) {
	var out ParameterSchema
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "Template"})
	if err != nil {
		return out, err
	}
	err = c.apiJSON(ctx, http.MethodGet, scaffolderPrefix+"/templates/"+url.PathEscape(r.Namespace)+"/"+url.PathEscape(r.Kind)+"/"+url.PathEscape(r.Name)+"/parameter-schema", nil, &out)
	return out, err
}

// DryRun renders a template body with skeleton files into a preview.
func (c *Client) DryRun(ctx context.Context, template json.RawMessage, values map[string]any, secrets map[string]string, files []File) (DryRunResult, error) {
	var out struct {
		Log []struct {
			Body LogLine `json:"body"`
		} `json:"log"`
		DirectoryContents []File         `json:"directoryContents"`
		Output            map[string]any `json:"output"`
		Steps             []StepState    `json:"steps"`
	}
	err := c.apiJSON(ctx, http.MethodPost, scaffolderPrefix+"/dry-run", map[string]any{
		"template": template, "values": values, "secrets": secrets, "directoryContents": files}, &out)
	res := DryRunResult{DirectoryContents: out.DirectoryContents, Output: out.Output, Steps: out.Steps}
	for _, l := range out.Log {
		res.Log = append(res.Log, l.Body)
	}
	return res, err
}
