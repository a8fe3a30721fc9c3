// Package sqlitecatalog is the catalog read model on a SQLite file: the
// embedded adapter of catalogstore.Store. Apply loads the rows a batch
// touches, runs catalogstore's fold and writes its changes in one transaction
// on the one writer connection; queries run on a pool of readers and see the
// last committed batch (WAL mode).
package sqlitecatalog
