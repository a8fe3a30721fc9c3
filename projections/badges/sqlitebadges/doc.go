// Package sqlitebadges is the badge read model (package badges) on a SQLite
// file, for backlot dev and tests.
package sqlitebadges
