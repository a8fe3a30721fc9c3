package app

import (
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/webui"
)

// newPortal builds the web UI over the api role's read models and services,
// with the same authenticator as the API (a request it refuses gets the
// sign-in page) and, in dev, the same Host check.
func newPortal(d apiDeps, cfg httpapi.Config, dir auth.Directory) (*webui.Server, error) {
	ui := webui.Config{
		Catalog:    d.Catalog,
		History:    cfg.History,
		AsOf:       cfg.AsOf,
		Badges:     d.Badges,
		Scorecards: cfg.Scorecards,
		Audit:      cfg.Audit,
		Identify:   cfg.Identify,
		Directory:  dir,
		Logger:     d.Logger,
	}
	if d.Workflows != nil {
		ui.Tasks, ui.Migrations = d.Workflows.scaffold, d.Workflows.migrations
	}
	// The portal decides as the API does: the same engine, and without an
	// authenticator the same guest with the same groups.
	if cfg.Permissions != nil {
		ui.Decide = cfg.Permissions.Decide
	}
	if cfg.Identify == nil && cfg.Guest != nil {
		ui.GuestGroups = cfg.Guest.Groups
	}
	if d.LocalGuard != nil {
		ui.GuardHosts, ui.Hosts = true, d.LocalGuard.Hosts
	}
	return webui.New(ui)
}
