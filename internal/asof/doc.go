// Package asof answers catalog reads as the catalog was at a past instant.
//
// Directly, when it can. A history store that keeps the catalog rows of its
// versions (history.CatalogReader: the SQLite history, sqlitehist, and the
// PostgreSQL one, pghist, over every partition) answers
// every catalog query at an instant from the versions valid then: filters,
// full text, ordering, paging, counts and facets behave exactly as on a
// catalog read model holding those versions, and nothing is built, so the
// first read of an instant never asked before costs what any read costs.
// Either history builds those rows on its first read at an instant (in
// the background; that read and those during the build take the snapshot
// path) and keeps them from then on, so a history nobody reads as of an
// instant folds at full speed.
//
// By a snapshot otherwise: while the rows are built, and, on SQLite, an
// instant naming a partition the store does not hold. For such an instant it takes every entity version the history says
// was valid then, folds them into a fresh catalog read model in a scratch
// folder, and serves the ordinary catalog queries from it. Built read models
// are kept for a few instants (the most recently used), keyed by the instant
// and the history's positions, so paging through one instant reuses one
// build and a new write never serves a stale answer for an instant it
// changes; at most MaxBuilding are built at once.
//
// Both paths create the entities of an instant in key order, so the creation
// order (lists that name no order) is the key order. The direct path refuses
// a filter on that internal creation order ($created). What neither
// restores: processing errors (status.items) and the locations table of that
// time; entity bodies, relations and search are exact.
package asof
