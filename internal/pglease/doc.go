// Package pglease makes the refresh of a catalog location exclusive across the
// processes that share a PostgreSQL database: Lock implements
// catalogsvc.LocationLock with leases in the location_leases table.
//
// A lease names its holder (one per process) and expires TTL after it was taken
// or last renewed; while held, a goroutine renews it every RenewEvery, so a
// holder that dies (killed, partitioned away) loses its leases after at most
// TTL and another process takes over. Acquire polls until the name is free;
// Claim takes it only when it is free and nobody finished a refresh of it within
// a given freshness. Release records the time and the holder of the refresh, and
// a lease is Continuous when the previous lease of the name was held by the
// same holder. Every time is the database's clock, so the processes' clocks do
// not matter. With Options.Linger, a released lease stays this holder's for
// that long, still renewed, and the holder's next Acquire or Claim of the name
// takes it back without a statement; Close frees the lingering leases.
//
// New applies the package's own migration under the advisory lock Backlot's
// migrations share (pgkit.MigrationLockKey).
package pglease
