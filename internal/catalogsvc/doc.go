// Package catalogsvc carries out catalog writes: it registers and removes
// locations, refreshes them through the ingest reader and the refresh decision,
// appends the resulting events to the log in batches, and answers only once the
// read model has applied them, so a client always reads its own writes.
package catalogsvc
