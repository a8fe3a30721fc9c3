// Package sqlitehist is the history read model on a SQLite file
// (modernc.org/sqlite, no cgo), the adapter of history.Store that `backlot dev`
// and tests use. It folds the embedded log, which has one partition: Apply
// refuses events of any other partition.
//
// Apply runs on one writer connection in one transaction per batch; readers use
// a pool of connections and see the last committed batch (WAL mode). The schema
// is in migrations/, embedded and applied by Open.
//
// It also answers the catalog at any instant directly (CatalogAt,
// history.CatalogReader) from the catalog rows of its versions (search rows
// and relations, as the catalog read model stores them), each kept once for
// the span of versions that carry it, so an edit writes only the rows it
// changes: the catalog's tables become views of the versions and rows valid
// at the instant, and the catalog adapters' shared conditions
// (catalogstore/catalogsql) run on them. The rows cost the fold about three
// times its time, so they are kept only once asked for: the first CatalogAt
// builds them in bulk in the background (KeepCatalogRows; history-catalog-rows
// in history_positions records it) and answers history.ErrNoCatalogRows until
// they are in; from then on Apply keeps them batch by batch.
package sqlitehist
