// Package storetest is the contract suite of catalogstore.Store: Run checks an
// adapter against every behaviour the catalog read model promises, and checks
// that it answers exactly as the SQLite store does for the same events (the
// reference, since the HTTP API and Backstage's catalog client run against
// both). Features turns on the cases of a store that folds a partitioned log.
//
// It also makes the events the suite and the benchmarks apply: Components
// (realistic components), History (a generated catalog ingested, edited, broken
// and partly removed) and Partition (the same events spread over partitions as
// a Kafka topic spreads them).
package storetest
