package app

import (
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/webui"
	"backlot.dev/backlot/policies/permission"
)

// newPortal builds the web UI over the api role's read models and services,
// with the same authenticator as the API (a request it refuses gets the
// sign-in page) and, in dev, the same Host check.
func newPortal(d apiDeps, cfg httpapi.Config) (*webui.Server, error) {
	ui := webui.Config{
		Catalog:  d.Catalog,
		History:  cfg.History,
		AsOf:     cfg.AsOf,
		Badges:   d.Badges,
		Audit:    cfg.Audit,
		Identify: cfg.Identify,
		Logger:   d.Logger,
	}
	if d.Workflows != nil {
		ui.Tasks, ui.Migrations = d.Workflows.scaffold, d.Workflows.migrations
	}
	if cfg.Identify == nil {
		// No authenticator: the API lets every request through as the
		// guest, so the portal shows the guest every page and button too.
		ui.Decide = func(permission.Principal, permission.Permission, permission.Resource) permission.Decision {
			return permission.Decision{Allowed: true, Rule: "no-authenticator", Reason: "the server has no authenticator: the guest may do everything"}
		}
	}
	if d.LocalGuard != nil {
		ui.GuardHosts, ui.Hosts = true, d.LocalGuard.Hosts
	}
	return webui.New(ui)
}
