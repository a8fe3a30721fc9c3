// Package catalogstore is the catalog read model's port: entities with their
// relations (each stored once, by the entity that declares it, and read in
// both directions) and status items, registered locations and their
// processing errors, and a key/value search table (keys by id) behind
// Backstage's filters, ordering and facets. A list's string item is one
// search row marked item (metadata.tags=java), which stands for the item's
// own key too (metadata.tags.java=true, ItemKeys): readers derive that key
// instead of the fold storing it.
//
// It holds the interfaces (Reader, Store), the types they answer with, and the
// fold, written once in pure Go: DecodeBatch decodes a batch, Batch.Fold turns
// it and the rows it touches (State, which the adapter loads) into Changes,
// the rows to delete and insert, which the adapter persists. The adapters are
// child packages: sqlitecatalog (the embedded read model) and pgcatalog
// (PostgreSQL); catalogsql renders the query conditions both share, and storetest is
// the contract suite both pass. The projector package tails the log into any
// Store.
package catalogstore
