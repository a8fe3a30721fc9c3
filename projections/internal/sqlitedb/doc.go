// Package sqlitedb opens the SQLite files of the read models: one writer
// connection, a pool of query-only readers, WAL mode and embedded migrations.
// The catalog read model and the history both open their files with it.
package sqlitedb
