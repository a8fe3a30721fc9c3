// Package sqlitehist is the history read model on a SQLite file
// (modernc.org/sqlite, no cgo), the adapter of history.Store that `backlot dev`
// and tests use. It folds the embedded log, which has one partition: Apply
// refuses events of any other partition.
//
// Apply runs on one writer connection in one transaction per batch; readers use
// a pool of connections and see the last committed batch (WAL mode). The schema
// is in migrations/, embedded and applied by Open.
package sqlitehist
