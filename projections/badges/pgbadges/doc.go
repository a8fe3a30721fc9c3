// Package pgbadges is the badge read model (package badges) in PostgreSQL, for
// backlot serve: the same tables as the SQLite adapter with the partition of
// every position, so projector processes of several partitions share it.
package pgbadges
