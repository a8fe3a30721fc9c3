// Package asof answers catalog reads as the catalog was at a past instant.
//
// For an instant (a time or log positions) it takes every entity version the
// history read model says was valid then, folds them into a fresh catalog read
// model in a scratch folder, and serves the ordinary catalog queries from it:
// Backstage filters, ordering, paging and facets behave exactly as on the live
// catalog. Built read models are kept for a few instants (the most recently
// used), keyed by the instant and the history's positions, so paging through
// one instant reuses one build and a new write never serves a stale answer for
// an instant it changes.
//
// What it does not restore: processing errors (status.items) and the
// locations table of that time; entity bodies, relations and search are exact.
package asof
