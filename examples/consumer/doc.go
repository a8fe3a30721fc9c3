// Command consumer is an example of a service outside Backlot that keeps a
// local mirror of the catalog from Backlot's change stream.
//
// It reads GET /api/events/stream (Server-Sent Events) with the standard
// library only, folds the entity and location events into a map from entity
// ref to entity body, prints a line per applied change, and saves the map
// with the cursor of the last applied event to a state file. Started again,
// it sends that cursor as Last-Event-ID and continues exactly after it.
//
// Usage:
//
//	go run ./examples/consumer --url http://127.0.0.1:7007 --state mirror.json
package main
