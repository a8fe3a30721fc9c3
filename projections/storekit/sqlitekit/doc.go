// Package sqlitekit opens the SQLite files of Backlot's stores: one writer
// connection, a pool of query-only readers, WAL mode, the pragmas every store
// shares and embedded migrations. Every SQLite store opens its file with it.
package sqlitekit
