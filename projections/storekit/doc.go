// Package storekit holds what the stores of every room share, one package per
// database: sqlitekit opens SQLite files, sqlitewal starts their write-ahead
// log over after a large write, pgkit pools, retries, locks and migrates
// PostgreSQL. It imports no domain package, so projections/ and
// internal/ both build on it.
package storekit
