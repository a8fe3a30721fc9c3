package app

import (
	"slices"

	"backlot.dev/backlot/internal/httpapi"
)

// Manifest describes what a running server serves, recorded by the role
// constructors as they build it, so backlot dev and backlot serve can be
// compared: the same roles on different adapters must serve the same things.
type Manifest struct {
	// Roles are the roles the process runs.
	Roles []string `json:"roles"`
	// Routes are the HTTP route patterns the api role serves with a service
	// behind them (a route whose service is missing answers 501 or 503).
	Routes []string `json:"routes"`
	// Handlers are the Watermill handlers the process runs.
	Handlers []string `json:"handlers"`
	// TaskQueues are the Temporal task queues the process's workers poll.
	TaskQueues []string `json:"taskQueues"`
	// Runners are the background loops the process runs: projectors, the
	// badge evaluator, webhook deliveries, the refresh loop.
	Runners []string `json:"runners"`
}

// The runners a Manifest names.
const (
	runnerCatalogProjector = "projector:catalog"
	runnerHistoryProjector = "projector:history"
	runnerBadgeProjector   = "projector:badges"
	runnerBadgeEvaluator   = "badge-evaluator"
	runnerWebhookDelivery  = "webhook-delivery"
	runnerCatalogLoad      = "ingester:catalogs"
	runnerRefreshLoop      = "ingester:refresh"
	runnerFileWatch        = "ingester:watch"
)

// handlerStateFeed is the Watermill handler that keeps the compacted state topic.
const handlerStateFeed = "state-feed"

// sorted returns a copy of m with every list sorted.
func (m Manifest) sorted() Manifest {
	out := Manifest{}
	for _, p := range []struct{ dst, src *[]string }{
		{&out.Roles, &m.Roles}, {&out.Routes, &m.Routes}, {&out.Handlers, &m.Handlers},
		{&out.TaskQueues, &m.TaskQueues}, {&out.Runners, &m.Runners},
	} {
		*p.dst = slices.Sorted(slices.Values(*p.src))
		if *p.dst == nil {
			*p.dst = []string{}
		}
	}
	return out
}

// The HTTP API's routes, by the service (httpapi.Config field) behind them.
// TestDevServesWhatServeServes requests every one of them, so a route listed
// here that the server lacks fails it.
var (
	catalogRoutes = []string{
		"GET /api/catalog/entities", "GET /api/catalog/entities/by-query", "GET /api/catalog/entities/by-uid/{uid}",
		"DELETE /api/catalog/entities/by-uid/{uid}", "GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}",
		"POST /api/catalog/entities/by-refs", "GET /api/catalog/entity-facets", "GET /api/catalog/locations",
		"POST /api/catalog/locations", "GET /api/catalog/locations/{id}", "DELETE /api/catalog/locations/{id}",
		"GET /api/catalog/locations/by-entity/{kind}/{namespace}/{name}", "POST /api/catalog/refresh",
		"POST /api/catalog/validate-entity", "GET /api/policies", "GET /api/policies/{id}",
		"GET /healthz", "GET /readyz", "GET /metrics",
	}
	auditRoutes      = []string{"GET /api/audit/events", "POST /api/audit/verify"}
	historyRoutes    = []string{"GET /api/audit/entities/{kind}/{namespace}/{name}/history", "GET /api/audit/diff"}
	asOfRoutes       = []string{"GET /api/catalog/entities?asOf", "GET /api/catalog/entities/by-query?asOf"}
	feedRoutes       = []string{"GET /api/events", "GET /api/events/stream"}
	webhookRoutes    = []string{"POST /api/events/subscriptions", "GET /api/events/subscriptions", "GET /api/events/subscriptions/{id}", "DELETE /api/events/subscriptions/{id}", "GET /api/events/subscriptions/{id}/dead-letters", "POST /api/events/subscriptions/{id}/dead-letters/{eventId}/replay"}
	badgeRoutes      = []string{"GET /api/policies/{id}/results", "GET /api/policies/{id}/history", "GET /api/policies/{id}/campaigns", "GET /api/policies/entities/{kind}/{namespace}/{name}", "GET /api/badges/{kind}/{namespace}/{name}/{file}", "GET /api/facts/sources/{source}", "GET /api/facts/entities/{kind}/{namespace}/{name}"}
	factRoutes       = []string{"POST /api/facts", "PUT /api/facts/sources/{source}"}
	evaluatorRoutes  = []string{"GET /api/policies#evaluator"}
	scaffolderRoutes = []string{"GET /api/scaffolder/v2/actions", "GET /api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema", "POST /api/scaffolder/v2/tasks", "GET /api/scaffolder/v2/tasks", "GET /api/scaffolder/v2/tasks/{id}", "GET /api/scaffolder/v2/tasks/{id}/eventstream", "GET /api/scaffolder/v2/tasks/{id}/events", "POST /api/scaffolder/v2/tasks/{id}/cancel", "POST /api/scaffolder/v2/tasks/{id}/retry", "POST /api/scaffolder/v2/tasks/{id}/approval", "POST /api/scaffolder/v2/dry-run"}
	migrationRoutes  = []string{"POST /api/migrations", "GET /api/migrations", "GET /api/migrations/{id}", "POST /api/git/hooks/{host}", "POST /api/migrations/{id}/pause", "POST /api/migrations/{id}/resume", "POST /api/migrations/{id}/cancel", "POST /api/migrations/{id}/retry-failed", "POST /api/migrations/{id}/close-prs"}
	gitRoutes        = []string{"GET /api/git/repos", "GET /api/git/repos/{owner}/{name}/changes", "POST /api/git/repos/{owner}/{name}/changes/{number}/merge", "POST /api/git/repos/{owner}/{name}/changes/{number}/close"}
	readYourWrites   = []string{"Backlot-Positions header: reads wait for the read model"}
	authRoutes       = []string{"Authorization header: reads and writes need a bearer token"}
	meRoutes         = []string{"GET /api/auth/me"}
	signInRoutes     = []string{"GET /auth/login", "GET /auth/callback", "POST /auth/logout", "GET /auth/config"}
)

// apiRoutes lists the routes cfg serves with a service behind them.
func apiRoutes(cfg httpapi.Config) []string {
	var out []string
	for _, area := range []struct {
		served bool
		routes []string
	}{
		{cfg.Reader != nil && cfg.Writer != nil, catalogRoutes},
		{cfg.Audit != nil, auditRoutes},
		{cfg.History != nil, historyRoutes},
		{cfg.AsOf != nil, asOfRoutes},
		{cfg.Feed != nil, feedRoutes},
		{cfg.Webhooks != nil, webhookRoutes},
		{cfg.Badges != nil, badgeRoutes},
		{cfg.Facts != nil, factRoutes},
		{cfg.EvaluatorStats != nil, evaluatorRoutes},
		{cfg.Scaffolder != nil, scaffolderRoutes},
		{cfg.Migrations != nil, migrationRoutes},
		{cfg.GitHost != nil, gitRoutes},
		{cfg.Waiter != nil, readYourWrites},
		{cfg.Identify != nil || cfg.Authenticate != nil, authRoutes},
		{true, meRoutes},
		{cfg.SignIn != nil, signInRoutes},
	} {
		if area.served {
			out = append(out, area.routes...)
		}
	}
	return out
}
