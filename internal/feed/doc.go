// Package feed reads the change feed that other services consume over HTTP
// (GET /api/events and its stream): the events after a client's cursor that
// match its filter, merged across the log's partitions in time order, waiting
// for the next event when there is none yet. Reader works on any
// event.PartitionedLog, so the embedded log and Kafka serve the same feed.
package feed
