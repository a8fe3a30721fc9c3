// Package substest is the contract suite every adapter of the webhook
// subscription store (webhooks.Store) passes: sqlitesubs and pgsubs run the
// same cases, with Features saying what each keeps beyond the common ground
// (cursors on the embedded log, a partitioned log's start positions).
//
// It covers subscriptions (create, get, list in creation order, a taken id,
// delete with its dead letters, not found), dead letters (add, list oldest
// first, one letter per event, remove, replay through webhooks.Manager),
// cursors, a second store on the same database, and concurrent writes.
package substest
