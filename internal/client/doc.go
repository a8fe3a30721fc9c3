// Package client is the Go client of Backlot's HTTP API: the catalog (in
// Backstage's shape), the audit log and entity history, the event feed and
// webhook subscriptions, policies, badges and facts, the scaffolder and fleet
// migrations. The CLI's client commands use it.
//
// It owns the wire types it sends and reads, so it links none of the server's
// packages (the HTTP server, the read models, the services, the wiring, the
// Temporal server); a test in package archtest holds it to that. Every method
// returns an *APIError, decoded from Backstage's error body, when the server
// answers with an error status.
package client
