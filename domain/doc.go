// Package domain holds Backlot's pure model: the catalog's entities, references,
// validation and relations (package catalog), the event envelope and event types
// (package event), and the decisions that turn observations into events.
//
// Nothing under domain imports infrastructure: no SQL, Kafka, Temporal, CEL or HTTP.
// Adapters in internal/ and read models in projections/ depend on domain, never the
// other way round.
package domain
