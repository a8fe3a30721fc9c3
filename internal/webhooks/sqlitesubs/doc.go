// Package sqlitesubs is the webhook subscription store (webhooks.Store) on a
// SQLite file, for backlot dev and tests. It keeps each subscription's cursor
// on the embedded log beside it, so it is also the messaging.CursorStore of
// the subscriptions' consumers.
package sqlitesubs
