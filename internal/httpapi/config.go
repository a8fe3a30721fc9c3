package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// DefaultMaxBodyBytes is the largest request body accepted when Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// DefaultActor is who a request acts as when Config.Actor is nil.
const DefaultActor = "user:default/guest"

// Writer performs the catalog's changes on behalf of the API (package
// catalogsvc). An error of a fault category answers that category's status
// and Backstage error name (a *catalog.ValidationError is fault.Invalid, 400;
// catalogstore.ErrNotFound is fault.NotFound, 404); context.DeadlineExceeded
// answers 503, anything else 500.
type Writer interface {
	// RegisterLocation adds a location (or with dryRun only reads it) and returns
	// the location and the entities it yields, each as the API returns entities.
	RegisterLocation(ctx context.Context, actor, locType, target string, dryRun bool) (catalogsvc.LocationResult, error)
	// RemoveLocation removes the location with the id and the entities it owns.
	RemoveLocation(ctx context.Context, actor, id string) error
	// DeleteEntityByUID removes the entity with the uid.
	DeleteEntityByUID(ctx context.Context, actor, uid string) error
	// Refresh re-reads the location that manages the entity (ref in any case).
	Refresh(ctx context.Context, actor, entityRef string) error
	// ValidateEntity validates a body as if read from location (type:target);
	// returns a *catalog.ValidationError or another error.
	ValidateEntity(ctx context.Context, location string, entity map[string]any) error
}

// Config configures New. Reader and Writer are required; the other fields have defaults.
type Config struct {
	// Reader answers every read of the catalog.
	Reader catalogstore.Reader
	// Writer performs every change.
	Writer Writer
	// Logger receives request errors; default slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds every request body; default DefaultMaxBodyBytes. A larger
	// body is answered with 413 PayloadTooLargeError.
	MaxBodyBytes int64
	// Actor says who is calling; default, and when it answers "", DefaultActor.
	// An authenticated principal (see Authenticate) takes precedence.
	Actor func(*http.Request) string
	// Authenticate, when set, must name the principal of every request, reads
	// and writes alike, but /healthz, /readyz, /metrics, the git hosts'
	// webhooks (signed with BACKLOT_WEBHOOK_SECRET) and, with PublicBadges,
	// the badge SVGs; a request it refuses is answered 401
	// AuthenticationError. The principal is the write's actor. Identify, when
	// set, takes its place and also names the principal's groups.
	Authenticate func(*http.Request) (string, error)
	// Identify, when set, names the principal of every request, with its
	// groups, which handlers find with auth.FromContext; it is checked on the
	// same requests as Authenticate, which defaults to its ref.
	Identify func(*http.Request) (auth.Principal, error)
	// SignIn, when set, serves the browser sign-in at an OIDC issuer
	// under /auth (signin.go); without it those routes answer 404.
	SignIn SignIn
	// PublicBadges serves the badge SVGs (GET /api/badges/...) without a
	// principal, so a README can embed them, when authentication is on.
	PublicBadges bool
	// RequireHookSecret refuses the git hosts' webhooks (POST
	// /api/git/hooks/{github,gitlab}) while BACKLOT_WEBHOOK_SECRET is not
	// set: backlot serve sets it, so an unsigned delivery cannot wake
	// migrations.
	RequireHookSecret bool
	// Ready reports whether the server can serve; /readyz answers 503 with its
	// error. Nil means always ready.
	Ready func(context.Context) error
	// Waiter, when set, lets a read wait for the positions a client sends in the
	// event.TokenHeader header (those a write answered with), so a client reads
	// its own writes on any replica. Without it the header is ignored.
	Waiter interface {
		WaitFor(ctx context.Context, want event.Positions) error
	}
	// TokenWait bounds that wait; the read answers 503 after it. Default 10s.
	TokenWait time.Duration
	// Audit, when set, serves the audit endpoints over the event log
	// (/api/audit/events, /api/audit/verify); without it they answer 501.
	Audit AuditLog
	// Feed, when set, serves the event feed (/api/events, /api/events/stream).
	Feed Feed
	// Webhooks, when set, serves the webhook subscriptions.
	Webhooks Webhooks
	// History, when set, serves the entity history and diff endpoints.
	History history.Reader
	// AsOf, when set, returns the catalog as it was at an instant, for the
	// asOf parameter of the catalog reads.
	AsOf func(ctx context.Context, at history.Instant) (catalogstore.Reader, error)
	// Badges, when set, serves the policy results, the badges of entities
	// (also as SVG), their history and the facts reported about entities.
	Badges badges.Reader
	// Scorecards counts the policies' level history and campaigns over
	// Badges through a lagging cache (GET /api/policies/{id}/history and
	// /campaigns); share it with the portal (webui.Config.Scorecards) so that
	// one replay of a policy's verdicts serves both. Nil with Badges set: one
	// of the API's own, with the scorecard defaults.
	Scorecards *badging.Scorecards
	// Facts, when set, takes facts and fact source schemas.
	Facts FactWriter
	// FactsReader, when set, is the catalog a fact report resolves its
	// entities and their owners' members through for its permission check,
	// instead of Reader: the same read model through the fact service's own
	// connections (serve), so a report does not queue behind the readers'
	// queries before it reaches the service. The check is the same either way.
	FactsReader catalogstore.Reader
	// Scaffolder, when set, serves /api/scaffolder/v2; without it those
	// routes answer 503.
	Scaffolder Scaffolder
	// Migrations, when set, serves /api/migrations; without it those routes
	// answer 503.
	Migrations Migrations
	// GitHost, when set, serves /api/git: the local git host's repositories
	// and change requests.
	GitHost GitHost
	// EvaluatorStats, when set, reports the badge evaluator's work in
	// GET /api/policies.
	EvaluatorStats func() badging.Stats
	// MaxStreamsPerPrincipal caps the streams (GET /api/events/stream, a
	// task's eventstream, feed long polls) one principal holds open at once;
	// over it a stream is answered 429 TooManyRequestsError. Default
	// DefaultMaxStreamsPerPrincipal.
	MaxStreamsPerPrincipal int
	// LocalGuard, when set, refuses requests whose Host does not name this
	// server and writes from another Origin (403 NotAllowedError): backlot
	// dev sets it on a loopback address.
	LocalGuard *LocalGuard
	// Permissions decides every route's permission (RouteTable); default the
	// default permission policy with its default parameters
	// (permission.Default). A denial answers 403 NotAllowedError naming the
	// permission and the reason.
	Permissions *permission.Engine
	// Guest is who a request acts as when no authenticator names its
	// principal (Identify unset): its ref and groups decide its
	// permissions. Nil: the actor Config.Actor names, without groups. A
	// Guest with an empty Ref is nobody signed in, whom the default policy
	// refuses everything.
	Guest *auth.Principal
	// RecordDenial, when set, records each permission denial, as
	// audit.Denials does in the event log; an error is logged.
	RecordDenial func(ctx context.Context, denied event.PermissionDenied) error
	// Registry, when set, receives the HTTP metrics and is what /metrics serves;
	// default a new registry with the Go and process collectors.
	Registry *prometheus.Registry
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Scorecards == nil && c.Badges != nil {
		c.Scorecards = badging.NewScorecards(c.Badges, catalogstore.LagOptions{})
	}
	if c.MaxStreamsPerPrincipal == 0 {
		c.MaxStreamsPerPrincipal = DefaultMaxStreamsPerPrincipal
	}
	switch {
	case c.Identify != nil && c.Authenticate == nil:
		identify := c.Identify
		c.Authenticate = func(r *http.Request) (string, error) {
			p, err := identify(r)
			return p.Ref, err
		}
	case c.Authenticate != nil && c.Identify == nil:
		authenticate := c.Authenticate
		c.Identify = func(r *http.Request) (auth.Principal, error) {
			ref, err := authenticate(r)
			return auth.Principal{Ref: ref}, err
		}
	}
	actor := c.Actor
	c.Actor = func(r *http.Request) string {
		if p, ok := r.Context().Value(principalKey{}).(string); ok && p != "" {
			return p
		}
		if actor != nil {
			if a := actor(r); a != "" {
				return a
			}
		}
		return DefaultActor
	}
}

// Validate reports the first missing or impossible setting.
func (c *Config) Validate() error {
	switch {
	case c.Reader == nil:
		return errors.New("httpapi: Config.Reader is required")
	case c.Writer == nil:
		return errors.New("httpapi: Config.Writer is required")
	case c.MaxBodyBytes < 0:
		return errors.New("httpapi: Config.MaxBodyBytes must not be negative")
	case c.MaxStreamsPerPrincipal < 0:
		return errors.New("httpapi: Config.MaxStreamsPerPrincipal must not be negative")
	}
	return nil
}
