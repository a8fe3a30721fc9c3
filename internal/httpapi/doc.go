// Package httpapi is Backlot's HTTP server. It serves Backstage's catalog REST
// API under /api/catalog, so the published @backstage/catalog-client package,
// the Backstage frontend and Backlot's own CLI can read and change the catalog,
// and Backlot's own APIs beside it: audit and history, the event feed, webhook
// subscriptions, policies, badges and facts, the scaffolder, fleet migrations
// and the local git host, with /healthz, /readyz and /metrics.
//
// The server imports the services, never the reverse: each area declares the
// small interface it consumes (Writer for catalog changes, Scaffolder,
// Migrations, GitHost, FactWriter, AuditLog, Feed) and its handlers parse the
// request, call one service and write the answer. One file holds each area's
// routes and handlers: catalog.go (entities, facets, refresh, validation),
// locations.go, audit.go (the raw log and entity history), feed.go,
// webhooks.go, badges.go (policies, badges and facts), scaffolder.go,
// migrations.go, githost.go (with the git hosts' webhooks) and health.go
// (with the metrics).
//
// Every route is registered through one helper (route, in authz.go) that
// names its permission (package policies/permission) and how its resource is
// found, or says why the route is open; RouteTable lists them. The
// permission policy (Config.Permissions) decides each request for its
// principal: the authenticated one, or Config.Guest without an
// authenticator. A denial answers 403 NotAllowedError naming the permission
// and the reason, and is recorded (Config.RecordDenial); a list decides each
// item and pages over what the principal may read (authz_lists.go);
// permissions.go answers POST /api/permissions/decide.
//
// Services say what went wrong with the categories of package fault; classify,
// in errors.go, is the one function that turns them into a status code and
// Backstage's error body:
//
//	{"error":{"name":"NotFoundError","message":"..."},
//	 "request":{"method":"GET","url":"/api/catalog/..."},
//	 "response":{"statusCode":404}}
//
// The Go client of these APIs is package client; it shares no code with the
// server.
package httpapi
