package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/auth/catalogdir"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/feed"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webui"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/projector"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/netguard"
)

// apiDeps are the adapters the api role serves from. Both modes pass every
// one; they differ in which adapter each is.
type apiDeps struct {
	// Log is the event log: facts are appended to it, the feed reads it.
	Log event.PartitionedLog
	// Heads answers the log's end: an as-of read waits until the history
	// has reached it.
	Heads func(context.Context) (event.Positions, error)
	// Catalog is the catalog read model; CatalogWaiter follows its progress.
	Catalog       catalogstore.Reader
	CatalogWaiter projector.Waiter
	// Writer performs the catalog's changes.
	Writer httpapi.Writer
	// History is the history read model; HistoryWaiter follows its progress.
	History       history.Reader
	HistoryWaiter projector.Waiter
	// Audit returns the audit log over the history reader the API reads.
	Audit func(history.Reader) httpapi.AuditLog
	// Badges is the badge read model; BadgeWaiter follows its progress.
	Badges      badging.Store
	BadgeWaiter projector.Waiter
	// Evaluated waits until the badge evaluator has handled positions.
	Evaluated func(context.Context, event.Positions) error
	// FactsCatalog, FactsBadges and FactsBadgeWaiter, when set, are what
	// the fact service reads and waits through instead of Catalog, Badges
	// and BadgeWaiter (serve: the same read models through a small pool of
	// its own, apart from the readers').
	FactsCatalog     catalogstore.Reader
	FactsBadges      badges.Reader
	FactsBadgeWaiter projector.Waiter
	// EvaluatorStats reports the evaluator of this process; nil when the
	// process runs none.
	EvaluatorStats func() badging.Stats
	// Webhooks manages the subscriptions.
	Webhooks *webhooks.Manager
	// Workflows is the Temporal side; nil without Temporal.
	Workflows *engine
	// Local is the local git host.
	Local *githost.Local
	// DataDir holds the as-of scratch folder.
	DataDir string
	// AuthTokens is the token file; "" leaves reads and writes open, to the guest.
	AuthTokens string
	// Permissions chooses the permission policy and the guest.
	Permissions PermissionsConfig
	// WarnGuest logs a warning at start when there is no token file: backlot
	// serve --insecure-no-auth, where the guest is anyone who reaches it.
	WarnGuest bool
	// OIDC signs people in at an issuer (with SessionKey sealing their
	// sessions, Guard dialing the issuer); an empty issuer turns it off.
	OIDC       oidcauth.Settings
	SessionKey []byte
	Guard      *netguard.Guard
	// Now is the clock of tokens and sessions; nil is time.Now.
	Now func() time.Time
	// PublicBadges serves the badge SVGs without a token.
	PublicBadges bool
	// RequireHookSecret refuses git webhooks without BACKLOT_WEBHOOK_SECRET.
	RequireHookSecret bool
	// Ready reports whether the stores can serve.
	Ready func(context.Context) error
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry
	// MaxStreamsPerPrincipal caps each principal's open streams; zero takes
	// httpapi.DefaultMaxStreamsPerPrincipal.
	MaxStreamsPerPrincipal int
	// LocalGuard, when set, checks Host and Origin (backlot dev).
	LocalGuard *httpapi.LocalGuard
	Logger     *slog.Logger
}

// apiRole is a built api role: the HTTP handler and what it must close.
type apiRole struct {
	handler http.Handler
	asof    *asof.Catalogs
}

// newAPIRole builds the HTTP API over d and records its routes in m.
func newAPIRole(d apiDeps, m *Manifest) (*apiRole, error) {
	// One directory of people and groups, cached, for the API's
	// authenticator and the portal alike.
	dir := catalogdir.New(d.Catalog, 0)
	authn, signIn, err := newAuthenticator(signInDeps{AuthTokens: d.AuthTokens, OIDC: d.OIDC, SessionKey: d.SessionKey,
		Guard: d.Guard, Catalog: d.Catalog, Directory: dir, Now: d.Now, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	perms, err := d.Permissions.engine()
	if err != nil {
		return nil, err
	}
	r := &apiRole{}
	if r.asof, err = asof.New(d.History, filepath.Join(d.DataDir, "asof")); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			r.asof.Close()
		}
	}()
	hist := audit.CaughtUpHistory{Reader: d.History, Target: d.Catalog.Positions, Waiter: d.HistoryWaiter}
	factsCfg := badging.FactServiceConfig{Log: d.Log, Catalog: d.Catalog, Store: d.Badges, Waiter: d.BadgeWaiter, Evaluated: d.Evaluated}
	if d.FactsCatalog != nil && d.FactsBadges != nil && d.FactsBadgeWaiter != nil {
		factsCfg.Catalog, factsCfg.Store, factsCfg.Waiter = d.FactsCatalog, d.FactsBadges, d.FactsBadgeWaiter
	}
	facts, err := badging.NewFactService(factsCfg)
	if err != nil {
		return nil, err
	}
	cfg := httpapi.Config{
		Reader:         d.Catalog,
		Writer:         d.Writer,
		Waiter:         d.CatalogWaiter,
		Identify:       authn,
		PublicBadges:   d.PublicBadges,
		Feed:           feed.New(d.Log),
		Webhooks:       d.Webhooks,
		Audit:          d.Audit(hist),
		History:        hist,
		AsOf:           r.catalogAt(d),
		Badges:         d.Badges,
		Facts:          facts,
		EvaluatorStats: d.EvaluatorStats,
		GitHost:        migratesvc.LocalHost{Local: d.Local},
		Logger:         d.Logger,
		Ready:          d.Ready,
		Registry:       d.Registry,

		MaxStreamsPerPrincipal: d.MaxStreamsPerPrincipal,
		LocalGuard:             d.LocalGuard,
		RequireHookSecret:      d.RequireHookSecret,

		Permissions:  perms,
		RecordDenial: recordDenials(d.Log),
	}
	if authn == nil {
		cfg.Guest = d.Permissions.guest(perms)
		if d.WarnGuest && d.Logger != nil {
			d.Logger.Warn("INSECURE: the api runs without an authenticator (--insecure-no-auth): anyone who reaches it acts as " +
				describeGuest(cfg.Guest) + " under the permission policy " + perms.Policy().Metadata.Name +
				"; give --auth-tokens FILE, or --guest-groups none to let the guest only read")
		}
	}
	if signIn != nil {
		cfg.SignIn = signIn
	}
	if d.Badges != nil {
		// One cache of the policies' scorecards for the API and the portal:
		// a replay of a policy's verdicts serves both.
		cfg.Scorecards = badging.NewScorecards(d.Badges, catalogstore.LagOptions{})
	}
	if d.Workflows != nil {
		cfg.Scaffolder, cfg.Migrations = d.Workflows.scaffold, d.Workflows.migrations
		cfg.GitHost = migratesvc.LocalHost{Local: d.Local, Client: d.Workflows.client}
	}
	if d.FactsCatalog != nil {
		// A fact report's permission check resolves its entities through
		// the fact service's pool too: on the readers' pool it queued behind
		// their queries (about 2.6 s of its p50 in a 2-minute soak).
		cfg.FactsReader = d.FactsCatalog
	}
	if r.handler, err = httpapi.New(cfg); err != nil {
		return nil, err
	}
	ui, err := newPortal(d, cfg, dir)
	if err != nil {
		return nil, err
	}
	r.handler = webui.Mount(r.handler, ui)
	m.Roles = append(m.Roles, RoleAPI)
	m.Routes = append(m.Routes, apiRoutes(cfg)...)
	m.Routes = append(m.Routes, ui.Routes()...)
	ok = true
	return r, nil
}

// catalogAt is the catalog at an instant: the history is caught up with the
// log's present first, so an instant up to now is answered completely.
func (r *apiRole) catalogAt(d apiDeps) func(context.Context, history.Instant) (catalogstore.Reader, error) {
	return func(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		heads, err := d.Heads(wctx)
		if err != nil {
			return nil, fmt.Errorf("event log: %w", err)
		}
		if err := d.HistoryWaiter.WaitFor(wctx, heads); err != nil {
			return nil, fmt.Errorf("history read model: %w", err)
		}
		return r.asof.At(ctx, at)
	}
}

// Close releases the as-of catalogs.
func (r *apiRole) Close() error { return r.asof.Close() }

// newRegistry returns the metrics registry of a process, with the Go and
// process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startWebhooks starts the webhook subscriptions' manager; with cfg.Deliver
// it delivers in this process, which m records.
func startWebhooks(ctx context.Context, cfg webhooks.Config, m *Manifest) (*webhooks.Manager, error) {
	hooks, err := webhooks.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Deliver {
		m.Runners = append(m.Runners, runnerWebhookDelivery)
	}
	return hooks, nil
}
