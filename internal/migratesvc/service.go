package migratesvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
)

// Config configures New.
type Config struct {
	// Client reaches Temporal.
	Client client.Client
	// Reader reads the catalog the targets are chosen from.
	Reader catalogstore.Reader
	// Host holds the targets' repositories.
	Host githost.Host
	// MaxTargets bounds the targets of a migration; zero is
	// DefaultMaxTargets. A spec that chooses more is refused (400).
	MaxTargets int
	// DryRunMaxTargets bounds the targets a dry run previews; zero is
	// DefaultDryRunMaxTargets. A dry run that chooses more is refused (400).
	DryRunMaxTargets int
	// DryRunMaxDiff bounds each repository's diff in a dry run, in bytes;
	// zero is migration.MaxDiff. A longer diff is cut and marked truncated.
	DryRunMaxDiff int
	// PollInterval is how often open change requests are read; zero is the
	// workflow's default.
	PollInterval time.Duration
}

// The default limits of a migration request.
const (
	// DefaultMaxTargets is how many targets a migration may have.
	DefaultMaxTargets = 10000
	// DefaultDryRunMaxTargets is how many targets a dry run may preview.
	DefaultDryRunMaxTargets = 50
)

// Service starts, reports on and steers fleet migrations on Temporal.
type Service struct{ cfg Config }

// ErrNotFound is what the service answers for an id no migration has; the
// errors it returns name the id and match both ErrNotFound and fault.NotFound.
var ErrNotFound = fault.Sentinel(fault.NotFound, "no such migration")

// notFound is the error for the migration id.
func notFound(id string) error {
	return &fault.Error{Category: fault.NotFound, Value: id, Message: "No migration with id " + id, Err: ErrNotFound}
}

// ChangeHook is what a git host's webhook says changed: a change request
// of a repository (owner/name).
type ChangeHook struct {
	Repo   string
	Number int
}

// New returns the service.
func New(cfg Config) *Service { return &Service{cfg: cfg} }

// Plan is what POST /api/migrations answers: the migration's id (none for a
// dry run), its targets and the entities it skips, and for a dry run each
// repository's diff.
type Plan struct {
	ID       string              `json:"id,omitempty"`
	Name     string              `json:"name"`
	DryRun   bool                `json:"dryRun"`
	Targets  []string            `json:"targets"`
	Skipped  []migration.Skipped `json:"skipped"`
	Previews []migration.Preview `json:"previews,omitempty"`
}

// Start parses, validates and starts (or previews) a migration.
func (s *Service) Start(ctx context.Context, actor string, raw []byte, dryRun bool) (Plan, error) {
	spec, err := migration.Parse(raw)
	if err != nil {
		return Plan{}, err
	}
	if err := spec.Validate(); err != nil {
		return Plan{}, err
	}
	entities, err := s.entities(ctx, spec)
	if err != nil {
		return Plan{}, err
	}
	targets, skipped, err := spec.Choose(entities, time.Now().UTC())
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Name: spec.Metadata.Name, DryRun: dryRun, Targets: []string{}, Skipped: skipped}
	if plan.Skipped == nil {
		plan.Skipped = []migration.Skipped{}
	}
	for _, t := range targets {
		plan.Targets = append(plan.Targets, t.Ref)
	}
	if max := orDefault(s.cfg.MaxTargets, DefaultMaxTargets); len(targets) > max {
		return Plan{}, &migration.FieldError{Migration: spec.Metadata.Name, Field: "spec.targets",
			Problem: fmt.Sprintf("chooses %d targets, over the limit of %d a migration may have", len(targets), max)}
	}
	if dryRun {
		if max := orDefault(s.cfg.DryRunMaxTargets, DefaultDryRunMaxTargets); len(targets) > max {
			return Plan{}, &migration.FieldError{Migration: spec.Metadata.Name, Field: "spec.targets",
				Problem: fmt.Sprintf("chooses %d targets, over the limit of %d a dry run previews; narrow the selector or the refs", len(targets), max)}
		}
		if plan.Previews, err = s.dryRun(ctx, spec, targets); err != nil {
			return Plan{}, err
		}
		return plan, nil
	}
	if len(targets) == 0 {
		return Plan{}, &migration.FieldError{Migration: spec.Metadata.Name, Field: "spec.targets", Problem: "chooses no entity with a repository"}
	}
	plan.ID = newID(spec.Metadata.Name)
	in, err := migration.NewInput(plan.ID, spec, targets, actor)
	if err != nil {
		return Plan{}, err
	}
	in.PollInterval = s.cfg.PollInterval
	if _, err := migration.Start(ctx, s.cfg.Client, in); err != nil {
		return Plan{}, fmt.Errorf("start migration: %w", err)
	}
	return plan, nil
}

// dryRun previews targets on a worker: the scripts run in the
// DryRunWorkflow's activities on the migration task queue, never in this
// process. Without Temporal, or with no worker polling the queue, it
// answers a fault.Unavailable error naming why.
func (s *Service) dryRun(ctx context.Context, spec *migration.Spec, targets []migration.Target) ([]migration.Preview, error) {
	if len(targets) == 0 {
		return []migration.Preview{}, nil
	}
	if s.cfg.Client == nil {
		return nil, fault.New(fault.Unavailable, "", "dry runs run on a worker, and this server has no Temporal configured")
	}
	q, err := s.cfg.Client.DescribeTaskQueue(ctx, migration.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, "", fmt.Errorf("dry runs run on a worker: task queue %s: %w", migration.TaskQueue, err))
	}
	if len(q.GetPollers()) == 0 {
		return nil, fault.New(fault.Unavailable, migration.TaskQueue, "dry runs run on a worker, and no worker polls the task queue %s", migration.TaskQueue)
	}
	in, err := migration.NewDryRunInput(spec, targets, s.cfg.DryRunMaxDiff)
	if err != nil {
		return nil, err
	}
	return migration.DryRun(ctx, s.cfg.Client, in)
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// newID is the migration's name, the time and a random suffix: each run of
// a spec is a migration of its own.
func newID(name string) string {
	var b [3]byte
	rand.Read(b[:])
	return strings.ToLower(name) + "-" + time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// entities reads the bodies the targets are chosen from, with their
// relations: the entities of spec.targets.refs, or every entity for a
// selector.
func (s *Service) entities(ctx context.Context, spec *migration.Spec) ([]map[string]any, error) {
	var views []*catalogstore.EntityView
	if refs := spec.Spec.Targets.Refs; len(refs) > 0 && spec.Spec.Targets.Selector == "" {
		keys := make([]string, 0, len(refs))
		for _, r := range refs {
			ref, err := catalog.ParseRef(r, catalog.RefDefaults{Kind: "Component"})
			if err != nil {
				return nil, &migration.FieldError{Migration: spec.Metadata.Name, Field: "spec.targets.refs", Problem: fmt.Sprintf("%q: %v", r, err)}
			}
			keys = append(keys, ref.Key())
		}
		got, err := s.cfg.Reader.ByKeys(ctx, keys)
		if err != nil {
			return nil, err
		}
		views = got
	} else {
		q := catalogstore.PageQuery{Limit: 1000}
		for {
			page, err := s.cfg.Reader.Query(ctx, q)
			if err != nil {
				return nil, err
			}
			for i := range page.Items {
				views = append(views, &page.Items[i])
			}
			if !page.HasNext || page.Last == nil {
				break
			}
			q.After = page.Last
		}
	}
	out := make([]map[string]any, 0, len(views))
	for _, v := range views {
		if v == nil {
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(v.Body, &body); err != nil {
			return nil, fmt.Errorf("entity %s: %w", v.Ref, err)
		}
		rels := make([]any, len(v.Relations))
		for i, r := range v.Relations {
			rels[i] = map[string]any{"type": r.Type, "targetRef": r.TargetRef}
		}
		body["relations"] = rels
		out = append(out, body)
	}
	return out, nil
}

// List lists the migrations, newest first, without their target rows.
func (s *Service) List(ctx context.Context) ([]migration.Report, error) {
	resp, err := s.cfg.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s'", migration.WorkflowName), PageSize: 200})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []migration.Report
	for _, e := range resp.Executions {
		id := e.GetExecution().GetWorkflowId()
		if seen[id] {
			continue // an earlier run, before a continue-as-new
		}
		seen[id] = true
		r, err := migration.Progress(ctx, s.cfg.Client, id)
		if err != nil {
			r = migration.Report{ID: id, State: "unknown: " + err.Error()}
		}
		r.Targets = nil
		out = append(out, r)
	}
	return out, nil
}

// Get answers one migration's progress.
func (s *Service) Get(ctx context.Context, id string) (migration.Report, error) {
	r, err := migration.Progress(ctx, s.cfg.Client, id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return r, notFound(id)
	}
	return r, err
}

// Wake signals the running migrations that a change request changed.
func (s *Service) Wake(ctx context.Context, h ChangeHook) error {
	return wake(ctx, s.cfg.Client, migration.ChangeUpdate{Repo: h.Repo, Number: h.Number})
}

// Control sends the migration a signal.
func (s *Service) Control(ctx context.Context, actor, id, op string) error {
	var err error
	switch op {
	case "pause":
		err = migration.Pause(ctx, s.cfg.Client, id)
	case "resume":
		err = migration.Resume(ctx, s.cfg.Client, id)
	case "cancel":
		err = migration.Cancel(ctx, s.cfg.Client, id, "cancelled by "+actor)
	case "retry-failed":
		err = migration.RetryFailed(ctx, s.cfg.Client, id)
	case "close-prs":
		err = migration.ClosePRs(ctx, s.cfg.Client, id)
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return notFound(id)
	}
	return err
}
