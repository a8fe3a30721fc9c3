// Package history is the history read model of the catalog: every version of
// every entity, with the log positions and times it was valid from and to, the
// event that made it (id, type, actor, correlation, digest), the location that
// owns it and, for changes ingested from git, the commit. It answers an entity's
// versions, the catalog as it was at any instant (a time or a log position),
// and the digests of the applied events in log order, for a verifier to compare
// with the log.
//
// Versions. A key (the lower-case ref) gets versions 1, 2, … in the order its
// events are applied, across removals and re-creations. An upsert whose hash
// and uid equal the current version's creates nothing, as in the catalog read
// model. A removal is a version of its own, with Removed set and no body: it
// records who removed the entity and when, and it is valid (the entity does not
// exist) until a re-creation closes it. Each version is closed by the next:
// ValidTo of version n is ValidFrom of version n+1, and the current version has
// none. The fold decides as the catalog read model does: a removal whose uid no
// longer matches is stale and ignored, and a registered location adds a
// version of its generated Location entity, which the location's removal
// removes.
//
// Times. ValidFrom.Time is the time of the event, held at the previous
// version's ValidFrom.Time if a clock went back, so the versions of a key never
// overlap in time and exactly one of them (or none) is valid at any instant.
//
// Fold decides; the adapters (history/sqlitehist on SQLite, history/pghist on
// PostgreSQL) only load the heads of the keys a batch touches and write what
// Fold returns, so both answer the same for the same events. The contract suite
// is history/histtest.
//
// A store may also answer the catalog at an instant itself, paged, filtered
// and faceted, without a read model being built (CatalogReader); Fold then
// returns each new version's catalog rows (Batch.WithCatalogRows).
package history
