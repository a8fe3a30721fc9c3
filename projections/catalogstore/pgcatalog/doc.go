// Package pgcatalog is the catalog read model on PostgreSQL: the production
// adapter of catalogstore.Store, answering every query exactly as the SQLite
// adapter does for the same events.
//
// The log it folds is partitioned (Kafka): several projector processes may apply
// different partitions into one database at once. Apply records the position of
// each partition in the transaction that applies its events and skips events at
// or below it, so replaying a batch changes nothing; it takes a transaction-level
// advisory lock per partition (never a table lock), so two processes that
// briefly apply the same partition during a rebalance take turns; and an entity
// event only touches the rows of its own entity, so the result does not depend on
// how partitions interleave. An entity's eid, the creation order lists use, is
// Position*1024 + Partition of the event that created it: the log may have at
// most MaxPartitions partitions.
//
// Open applies the embedded migrations under an advisory lock, so processes that
// start at once do not race. Failures of the server are returned as errors, for
// the caller to answer 503 or retry.
//
// Connections come from a pgxpool (pgkit.NewPool), which other PostgreSQL adapters
// of a process can share (Store.Pool).
package pgcatalog
