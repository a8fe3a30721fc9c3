// Package badgetest is the contract suite every adapter of the badge read
// model (package badges) passes: SQLite and PostgreSQL run the same cases.
package badgetest
