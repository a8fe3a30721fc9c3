package webui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/catalogdir"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

// Guest is the principal a page renders as when the server has no
// authenticator (backlot dev on loopback).
const Guest = "user:default/guest"

// Tasks lists scaffolder tasks (scaffoldsvc's service does).
type Tasks interface {
	// List lists the newest tasks (up to limit), newest first, and of those
	// the ones createdBy started (when set) that stand at status (when set).
	List(ctx context.Context, limit int, createdBy, status string) ([]scaffolder.TaskSummary, error)
}

// Migrations lists fleet migrations (migratesvc's service does).
type Migrations interface {
	// List lists the migrations, newest first, without their target rows.
	List(ctx context.Context) ([]migration.Report, error)
}

// Config configures New. Catalog is required; a page whose source is nil
// says so instead of its section.
type Config struct {
	// Catalog is the catalog read model every page reads.
	Catalog catalogstore.Reader
	// History is the history read model: an entity's versions and the
	// catalog as of an instant.
	History history.Reader
	// AsOf returns the catalog as it was at an instant.
	AsOf func(ctx context.Context, at history.Instant) (catalogstore.Reader, error)
	// Badges is the badge read model: facts, verdicts and their changes.
	Badges badges.Reader
	// Scorecards counts the policies' scorecards over Badges through a
	// lagging cache; share the API's (httpapi.Config.Scorecards) so that one
	// replay of a policy's verdicts serves both. Nil: one of the portal's
	// own, with the scorecard defaults.
	Scorecards *badging.Scorecards
	// Audit is the audit log's events (the raw log, filtered).
	Audit audit.Log
	// Tasks and Migrations list the scaffolder's tasks and the fleet
	// migrations; nil without Temporal.
	Tasks      Tasks
	Migrations Migrations
	// Identify names the principal of a request, with its groups; nil means
	// no authenticator: every page renders as Guest. A request it refuses
	// gets the sign-in page (401).
	Identify func(*http.Request) (auth.Principal, error)
	// GuestGroups are the groups of Guest when Identify is nil: the API's
	// guest groups (backlot dev's --guest-groups), so a page shows the guest
	// what the API lets the guest do.
	GuestGroups []string
	// Directory expands a principal's groups through the catalog's
	// memberOf and childOf relations; default a catalogdir.Directory over
	// Catalog. The api role passes its authenticator's, so the portal and
	// the API share one cached walk.
	Directory auth.Directory
	// Decide answers whether a principal may see a page; default the
	// shipped permission policy (permission.Default).
	Decide func(p permission.Principal, action permission.Permission, resource permission.Resource) permission.Decision
	// Hosts, when set, are the Host names the pages answer to besides
	// localhost, 127.0.0.1 and ::1 (backlot dev's DNS-rebinding guard); nil
	// answers any Host.
	Hosts []string
	// GuardHosts turns the Host check on (with Hosts as the extra names).
	GuardHosts bool
	// SignInURL is where "Sign in" leads; default /auth/login.
	SignInURL string
	// MeURL is the API that names the signed-in person, read by the page's
	// script when present; default /api/auth/me.
	MeURL string
	// Logger receives render errors; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SignInURL == "" {
		c.SignInURL = "/auth/login"
	}
	if c.MeURL == "" {
		c.MeURL = "/api/auth/me"
	}
	if c.Directory == nil && c.Catalog != nil {
		c.Directory = catalogdir.New(c.Catalog, 0)
	}
	if c.Scorecards == nil && c.Badges != nil {
		c.Scorecards = badging.NewScorecards(c.Badges, catalogstore.LagOptions{})
	}
	if c.Decide == nil {
		eng, err := permission.Default(nil)
		if err != nil {
			return err
		}
		c.Decide = eng.Decide
	}
	return nil
}

// Validate reports the first missing setting.
func (c *Config) Validate() error {
	if c.Catalog == nil {
		return errors.New("webui: Config.Catalog is required")
	}
	return nil
}
