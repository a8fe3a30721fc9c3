// Package app wires Backlot's roles together. Dev runs every role in one process
// on embedded stores: the SQLite event log, the SQLite read model with its
// projector, the ingester with its refresh loop, and the HTTP API.
package app
