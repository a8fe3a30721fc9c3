// Package statefeed keeps the compacted state topic backlot.catalog.entities.v1:
// for every change of an entity in the event log, the entity as the catalog API
// returns it now (key = the entity ref, value = its JSON), or a tombstone (a null
// value) once it is gone. A consuming service reads the topic from the start to
// get the current catalog, then follows it; Kafka's compaction keeps the topic
// the size of the catalog, not of its history.
//
// The handler runs on the Watermill router (internal/messaging) over the event
// topic, in its own consumer group. It waits until the read model has applied
// the event before reading the entity, so what it publishes is never older than
// the event that triggered it.
package statefeed
