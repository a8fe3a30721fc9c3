// Package webhooks delivers the catalog's events to HTTP endpoints that
// services subscribe: a subscription names a target URL, a CEL filter over the
// event (see policies.CompileEventFilter) and a secret.
//
// Each subscription is a handler on a Watermill router over the event log, in
// its own consumer with its own cursor, starting at the log's end when it is
// created. Events are delivered at least once, one at a time in log order, so
// each subject's events arrive in order; a failing delivery is retried with
// exponential backoff (250 ms doubling to 2.5 s) and, after MaxAttempts, moved to
// the subscription's dead letters, which the API lists and replays.
//
// A delivery is a POST of the CloudEvent in structured JSON
// (Content-Type: application/cloudevents+json) with the headers
// Backlot-Subscription, Backlot-Event-Id and
// Backlot-Signature: t=UNIX_SECONDS,v1=HEX, where HEX is the HMAC-SHA256, keyed
// with the subscription's secret, of "UNIX_SECONDS." followed by the body.
//
// Targets are guarded (Config.Guard, package netguard): a subscription whose
// URL names a loopback, private, link-local, metadata or other refused
// address, or a host resolving only to such addresses, is refused at creation
// (a ValidationError of the field url); every delivery checks the address it
// connects to when it connects, and follows no redirect, so a target rebound
// to a refused address, or answering 3xx, fails and ends as a dead letter.
//
// The subscriptions and their dead letters are kept by a Store, the port this
// package declares; its adapters are the child packages sqlitesubs (a SQLite
// file, backlot dev) and pgsubs (PostgreSQL, backlot serve), and substest is
// the contract suite both run.
package webhooks
