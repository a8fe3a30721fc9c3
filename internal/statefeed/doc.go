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
// the event that triggered it. A relation shows on both of its ends, so the state
// of every entity the changed one relates to is published again with it. One
// case is not covered yet: an entity that loses a relation because the other end
// dropped it (an owner change, a removal) keeps the old relation in the topic
// until it changes itself; the fix is for the fold to report every key it touched.
package statefeed
