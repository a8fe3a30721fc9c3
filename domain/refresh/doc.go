// Package refresh holds the decision that turns what a location yields now into
// catalog events: upserts for new or changed entities, removals for vanished
// ones, conflict errors for entities another location owns, and the location's
// processing errors. A Decider, fed what one refresh of a location saw, is a pure
// function of that observation and the current state.
package refresh
