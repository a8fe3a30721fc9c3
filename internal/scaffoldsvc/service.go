package scaffoldsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/scaffolder"
)

// Config configures New.
type Config struct {
	// Tasks starts and inspects task workflows.
	Tasks *scaffolder.Tasks
	// Reader reads templates and users from the catalog.
	Reader catalogstore.Reader
	// Activities runs dry runs in-process.
	Activities *scaffolder.Activities
}

// Service runs templates as scaffolder tasks on Temporal.
type Service struct {
	cfg Config
}

// New returns the service.
func New(cfg Config) *Service { return &Service{cfg: cfg} }

// entity reads the entity ref (kind defaults to Template) from the catalog.
func (s *Service) entity(ctx context.Context, ref, defaultKind string) (*catalogstore.EntityView, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: defaultKind})
	if err != nil {
		return nil, &scaffolder.TemplateError{Template: ref, Field: "templateRef", Problem: err.Error()}
	}
	views, err := s.cfg.Reader.ByKeys(ctx, []string{r.Key()})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 || views[0] == nil {
		return nil, nil
	}
	return views[0], nil
}

// template reads a template and what a task needs to know of it.
func (s *Service) template(ctx context.Context, ref string) (*scaffolder.Template, scaffolder.TemplateInfo, error) {
	v, err := s.entity(ctx, ref, "Template")
	if err != nil {
		return nil, scaffolder.TemplateInfo{}, err
	}
	if v == nil {
		return nil, scaffolder.TemplateInfo{}, &scaffolder.TemplateError{Template: ref, Field: "templateRef", Problem: "no such template in the catalog"}
	}
	t, err := scaffolder.FromEntity(v.Ref, v.Body)
	if err != nil {
		return nil, scaffolder.TemplateInfo{}, err
	}
	if err := s.cfg.Activities.Check(t); err != nil {
		return nil, scaffolder.TemplateInfo{}, err
	}
	var body struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(v.Body, &body)
	info := scaffolder.TemplateInfo{
		Ref: v.Ref, Version: catalog.HashJSON(v.Body), Body: v.Body,
		Location: body.Metadata.Annotations[catalog.AnnotationManagedByLocation],
	}
	return t, info, nil
}

// user reads who runs a task; a user the catalog does not hold runs with
// its ref alone.
func (s *Service) user(ctx context.Context, actor string) scaffolder.UserInfo {
	u := scaffolder.UserInfo{Ref: actor}
	if v, err := s.entity(ctx, actor, "User"); err == nil && v != nil {
		var body map[string]any
		if json.Unmarshal(v.Body, &body) == nil {
			u.Entity = body
		}
	}
	return u
}

// memberOf reads a User entity's spec.memberOf: the refs of its groups.
func memberOf(user map[string]any) []string {
	spec, _ := user["spec"].(map[string]any)
	list, _ := spec["memberOf"].([]any)
	var out []string
	for _, g := range list {
		if s, ok := g.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Actions returns the actions tasks may use, built-in and custom, as GET
// /v2/actions lists them.
func (s *Service) Actions() []scaffolder.Action { return s.cfg.Activities.Described() }

// ParameterSchema answers the parameter pages of a template.
func (s *Service) ParameterSchema(ctx context.Context, ref string) (scaffolder.ParameterSchema, error) {
	t, _, err := s.template(ctx, ref)
	if err != nil {
		return scaffolder.ParameterSchema{}, err
	}
	return t.ParameterSchema(), nil
}

// Create checks the values and starts a task; its id is a new UUID.
func (s *Service) Create(ctx context.Context, actor, templateRef string, values map[string]any, secrets map[string]string) (string, error) {
	t, info, err := s.template(ctx, templateRef)
	if err != nil {
		return "", err
	}
	user := s.user(ctx, actor)
	// The pages and fields the user's form shows are those validated and kept.
	params, err := t.ParametersFor(values, scaffolder.Viewer{Ref: actor, Groups: memberOf(user.Entity)})
	if err != nil {
		return "", err
	}
	in := scaffolder.TaskInput{ID: event.NewID(), Template: info, Parameters: params, User: user, CreatedAt: time.Now().UTC()}
	if err := s.checkNewEntities(ctx, in, scaffolder.Secrets(secrets)); err != nil {
		return "", err
	}
	if err := s.cfg.Tasks.Start(ctx, in, scaffolder.Secrets(secrets)); err != nil {
		return "", fmt.Errorf("start task: %w", err)
	}
	return in.ID, nil
}

// taskError names the id of a task no workflow has: the error matches
// scaffolder.ErrNoTask and fault.NotFound.
func taskError(id string, err error) error {
	if errors.Is(err, scaffolder.ErrNoTask) {
		return &fault.Error{Category: fault.NotFound, Value: id, Message: "No task with id " + id, Err: err}
	}
	return err
}

// checkNewEntities refuses a task whose catalog-info files would register
// an entity the catalog already holds: found at catalog:register, the
// conflict would come after the repository was published. It renders the
// task as a dry run does; a task that cannot be rendered so is left to
// fail on its own, with its own error.
func (s *Service) checkNewEntities(ctx context.Context, in scaffolder.TaskInput, secrets scaffolder.Secrets) error {
	if s.cfg.Activities == nil {
		return nil
	}
	res, err := s.cfg.Activities.DryRun(ctx, in.Template, in.Parameters, in.User, secrets)
	if err != nil {
		return nil
	}
	for _, f := range res.DirectoryContents {
		if base := path.Base(f.Path); base != "catalog-info.yaml" && base != "catalog-info.yml" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(f.Base64Content)
		if err != nil {
			continue
		}
		docs, err := catalog.ParseDocuments(f.Path, raw, catalog.Limits{})
		if err != nil {
			continue
		}
		for _, d := range docs {
			if d.Err != nil {
				continue
			}
			ref, ok := catalog.RefFromBody(d.Body)
			if !ok {
				continue
			}
			views, err := s.cfg.Reader.ByKeys(ctx, []string{ref.Key()})
			if err != nil {
				return err
			}
			if len(views) == 0 || views[0] == nil {
				continue
			}
			return &scaffolder.ParameterError{Field: fieldNaming(in.Parameters, ref.Name),
				Problem: fmt.Sprintf("the task would register %s (%s), which the catalog already holds; choose another name", ref, f.Path)}
		}
	}
	return nil
}

// fieldNaming is the parameter whose value is name ("parameters.<key>"),
// or "parameters" when none is.
func fieldNaming(params map[string]any, name string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := params[k].(string); ok && strings.EqualFold(v, name) {
			return "parameters." + k
		}
	}
	return "parameters"
}

// Task answers a task's state.
func (s *Service) Task(ctx context.Context, id string) (scaffolder.TaskState, error) {
	st, err := s.cfg.Tasks.State(ctx, id)
	return st, taskError(id, err)
}

// List lists the newest tasks, up to limit (default 100), newest first, and
// of those the ones createdBy started (when set) that stand at status (when
// set).
func (s *Service) List(ctx context.Context, limit int, createdBy, status string) ([]scaffolder.TaskSummary, error) {
	list, err := s.cfg.Tasks.List(ctx, limit)
	if err != nil {
		return nil, err
	}
	return chooseTasks(list, createdBy, status), nil
}

// chooseTasks keeps the tasks createdBy started (when set) that stand at
// status (when set), in order. It never returns nil.
func chooseTasks(list []scaffolder.TaskSummary, createdBy, status string) []scaffolder.TaskSummary {
	out := []scaffolder.TaskSummary{}
	for _, t := range list {
		if (createdBy != "" && t.User != createdBy) || (status != "" && t.Status != status) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Cancel cancels a task.
func (s *Service) Cancel(ctx context.Context, _, id string) error {
	return taskError(id, s.cfg.Tasks.Cancel(ctx, id))
}

// Retry retries a task from its failed step.
func (s *Service) Retry(ctx context.Context, _, id string) error {
	return taskError(id, s.cfg.Tasks.Retry(ctx, id))
}

// Decide answers a task's approval step. A task that does not wait for an
// approval (or any other refusal) is a fault.Conflict.
func (s *Service) Decide(ctx context.Context, id string, a scaffolder.Approval) error {
	err := s.cfg.Tasks.Decide(ctx, id, a)
	if err == nil || errors.Is(err, scaffolder.ErrNoTask) {
		return taskError(id, err)
	}
	return fault.Wrap(fault.Conflict, id, err)
}

// DryRun renders a template body with its skeleton files (written to a
// scratch folder the template's relative urls resolve against) into a
// preview.
func (s *Service) DryRun(ctx context.Context, actor string, template json.RawMessage, values map[string]any, secrets map[string]string, files []scaffolder.File) (scaffolder.DryRunResult, error) {
	var head struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(template, &head); err != nil {
		return scaffolder.DryRunResult{}, fmt.Errorf("template: %w", err)
	}
	ns := head.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	dir, err := os.MkdirTemp("", "backlot-dry-run-template-")
	if err != nil {
		return scaffolder.DryRunResult{}, err
	}
	defer os.RemoveAll(dir)
	for i, f := range files {
		rel := filepath.FromSlash(strings.TrimPrefix(f.Path, "./"))
		if !filepath.IsLocal(rel) {
			return scaffolder.DryRunResult{}, fmt.Errorf("directoryContents[%d].path: %q leaves the template's folder", i, f.Path)
		}
		raw, err := base64.StdEncoding.DecodeString(f.Base64Content)
		if err != nil {
			return scaffolder.DryRunResult{}, fmt.Errorf("directoryContents[%d].base64Content: %w", i, err)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return scaffolder.DryRunResult{}, err
		}
		mode := os.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		if err := os.WriteFile(p, raw, mode); err != nil {
			return scaffolder.DryRunResult{}, err
		}
	}
	info := scaffolder.TemplateInfo{Ref: "template:" + ns + "/" + head.Metadata.Name, Version: catalog.HashJSON(template),
		Location: "file:" + filepath.Join(dir, "template.yaml"), Body: template}
	return s.cfg.Activities.DryRun(ctx, info, values, s.user(ctx, actor), scaffolder.Secrets(secrets))
}
