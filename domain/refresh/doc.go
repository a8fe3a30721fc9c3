// Package refresh holds the decision that turns what a location yields now into
// catalog events: upserts for new or changed entities, removals for vanished
// ones, conflict errors for entities another location owns, and the location's
// processing errors. It is a pure function of the observation and the current state.
package refresh
