// Package pghist is the history read model on PostgreSQL (pgx/v5, pgxpool), the
// production adapter of history.Store, answering exactly as history/sqlitehist
// does for the same events.
//
// The log it folds is partitioned (Kafka), and several projector processes may
// apply different partitions into one database at once. Apply records each
// partition's position in the transaction that applies its events and skips
// events at or below it; it takes a transaction-level advisory lock per
// partition, so two processes that briefly apply the same partition take turns.
// A key's events come from one partition (the subject is the partition key), so
// partitions touch disjoint versions; the unique (key, version) index turns
// anything else into a retried transaction, never a doubled version.
//
// Writes are set-based: one UPDATE closes the batch's replaced versions and COPY
// writes its new versions and event digests. Open applies the embedded
// migrations with pgkit.Migrate, under Backlot's migration lock.
//
// It also answers the catalog at any instant directly (CatalogAt,
// history.CatalogReader), as history/sqlitehist does, from the catalog rows
// of its versions kept as spans (history.Spans), over every partition: an
// instant of positions names each partition's. The rows are kept only once
// asked for: the first CatalogAt builds them in the background
// (KeepCatalogRows, one transaction that holds Applies off through an
// advisory lock; history-catalog-rows in history_positions records it) and
// answers history.ErrNoCatalogRows until they are in; from then on every
// Apply, in any process, keeps those of its batch.
package pghist
