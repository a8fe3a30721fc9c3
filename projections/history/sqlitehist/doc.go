// Package sqlitehist is the history read model on a SQLite file
// (modernc.org/sqlite, no cgo), the adapter of history.Store that `backlot dev`
// and tests use. It folds the embedded log, which has one partition: Apply
// refuses events of any other partition.
//
// Apply runs on one writer connection in one transaction per batch; readers use
// a pool of connections and see the last committed batch (WAL mode). The schema
// is in migrations/, embedded and applied by Open.
//
// It also keeps the catalog rows of every version (search rows and relations,
// as the catalog read model stores them) and answers the catalog at any
// instant from them directly (CatalogAt, history.CatalogReader): the
// catalog's tables become views of the versions valid at the instant, and the
// catalog adapters' shared conditions (catalogstore/catalogsql) run on them. A
// file written before it kept those rows says so (history-catalog-rows in
// history_positions) and answers history.ErrNoCatalogRows until rebuilt.
package sqlitehist
