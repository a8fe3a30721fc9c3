package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/netguard"
	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
)

// TemporalStarter starts an in-process Temporal server on the SQLite file
// db with its frontend at addr (port 0 picks one), and answers the
// frontend's address and how to stop it. The binary passes
// temporalsrv's; the package keeps the server out of its own imports so
// its tests link quickly.
type TemporalStarter func(ctx context.Context, db, addr string) (frontend string, stop func() error, err error)

// workflowsConfig configures startWorkflows.
type workflowsConfig struct {
	// Addr and Namespace locate Temporal's frontend.
	Addr, Namespace string
	// Key seals secrets (scaffoldsvc.LoadKey).
	Key []byte
	// WorkDir holds task workspaces.
	WorkDir string
	// Local is the local git host.
	Local *githost.Local
	// Service registers locations; Log takes task events; Reader reads
	// templates and users.
	Service *catalogsvc.Service
	Log     event.PartitionedLog
	Reader  catalogstore.Reader
	// PollInterval is how often migrations read open change requests; zero
	// is the workflow's default.
	PollInterval time.Duration
	// Scripts configures migration scripts: their sandbox and limits.
	Scripts ScriptsConfig
	Logger  *slog.Logger
	// Guard is what the GitHub and GitLab API clients may reach.
	Guard *netguard.Guard
	// APIURL is this process's API address, when it serves one.
	APIURL string
}

// ScriptsConfig configures migration scripts: where they run, and the
// limits of a migration request.
type ScriptsConfig struct {
	// Insecure lets a worker without bubblewrap run scripts unisolated
	// (--insecure-scripts); without it such a worker refuses them.
	Insecure bool
	// Network lets a spec that asks for the network (change.network) have
	// it (--script-network); without it such a script is refused.
	Network bool
	// MaxTargets bounds a migration's targets; zero is
	// migratesvc.DefaultMaxTargets.
	MaxTargets int
	// DryRunMaxTargets bounds the targets a dry run previews; zero is
	// migratesvc.DefaultDryRunMaxTargets.
	DryRunMaxTargets int
	// DryRunMaxDiff bounds each repository's diff in a dry run, in bytes;
	// zero is migration.MaxDiff.
	DryRunMaxDiff int
	// CustomActions are the registration files of custom scaffolder
	// actions (--custom-actions; package customaction).
	CustomActions []string
	// ActionsAPIURL is the API's address executable actions receive as
	// BACKLOT_URL (--actions-api-url); default dev's own address, else the
	// BACKLOT_URL variable.
	ActionsAPIURL string
}

// engine is the workflow side of a server: a Temporal client, the services
// the API calls, the activities a worker runs, and the workers once the
// worker role started them (newWorkerRole).
type engine struct {
	client     client.Client
	workers    []worker.Worker
	scaffold   *scaffoldsvc.Service
	acts       *scaffolder.Activities
	macts      *migration.Activities
	migrations *migratesvc.Service
	logger     *slog.Logger
}

// remoteHosts returns the GitHub and GitLab hosts the environment
// configures: BACKLOT_GITHUB_TOKEN (and BACKLOT_GITHUB_API_URL for GitHub
// Enterprise), BACKLOT_GITLAB_TOKEN (and BACKLOT_GITLAB_URL). Their API
// clients dial through guard and follow no redirect.
func remoteHosts(guard *netguard.Guard) (*githost.GitHub, *githost.GitLab) {
	var gh *githost.GitHub
	var gl *githost.GitLab
	hc := netguard.NewClient(guard, 30*time.Second)
	if t := os.Getenv("BACKLOT_GITHUB_TOKEN"); t != "" {
		gh = &githost.GitHub{Token: t, BaseURL: os.Getenv("BACKLOT_GITHUB_API_URL"), HTTP: hc}
	}
	if t := os.Getenv("BACKLOT_GITLAB_TOKEN"); t != "" {
		base := os.Getenv("BACKLOT_GITLAB_URL")
		if base == "" {
			base = "https://gitlab.com"
		}
		gl = &githost.GitLab{Token: t, BaseURL: base, HTTP: hc}
	}
	return gh, gl
}

// newWorkflows dials Temporal and builds the workflow services; it starts no
// worker.
func newWorkflows(ctx context.Context, cfg workflowsConfig) (*engine, error) {
	c, dc, err := scaffoldsvc.Dial(ctx, cfg.Addr, cfg.Namespace, cfg.Key, cfg.Logger)
	if err != nil {
		return nil, err
	}
	gh, gl := remoteHosts(cfg.Guard)
	e := &engine{client: c, logger: cfg.Logger}
	e.acts = &scaffolder.Activities{
		WorkDir: cfg.WorkDir, Local: cfg.Local, GitHub: gh, GitLab: gl, LocalFallback: cfg.Local != nil,
		Catalog: scaffoldsvc.Catalog{Service: cfg.Service, Log: cfg.Log, Reader: cfg.Reader}, Logger: cfg.Logger,
	}
	if err := withCustomActions(ctx, e.acts, cfg); err != nil {
		c.Close()
		return nil, err
	}
	e.scaffold = scaffoldsvc.New(scaffoldsvc.Config{Tasks: &scaffolder.Tasks{Client: c, Converter: dc}, Reader: cfg.Reader, Activities: e.acts})
	hosts := migratesvc.Hosts{Local: cfg.Local, GitHub: gh, GitLab: gl}
	e.migrations = migratesvc.New(migratesvc.Config{Client: c, Reader: cfg.Reader, Host: hosts, PollInterval: cfg.PollInterval,
		MaxTargets: cfg.Scripts.MaxTargets, DryRunMaxTargets: cfg.Scripts.DryRunMaxTargets, DryRunMaxDiff: cfg.Scripts.DryRunMaxDiff})
	catalog := scaffoldsvc.Catalog{Service: cfg.Service, Log: cfg.Log, Reader: cfg.Reader}
	e.macts = &migration.Activities{Host: hosts, WorkDir: filepath.Join(cfg.WorkDir, "..", "migrations"), Record: catalog.Append,
		Sandbox: sandbox.Config{Insecure: cfg.Scripts.Insecure, AllowNetwork: cfg.Scripts.Network}}
	return e, nil
}

// Close stops the workers and the client.
func (e *engine) Close() error {
	if e == nil {
		return nil
	}
	for _, w := range e.workers {
		w.Stop()
	}
	e.client.Close()
	return nil
}
