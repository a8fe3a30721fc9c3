// Package migration holds Backlot's fleet migrations: the Migration spec
// (targets by CEL selector or refs, a change script, the pull request, the
// rollout's pacing and waves, the merge mode), checked with errors that name
// the field; the choice of targets and their repositories from the catalog;
// and the rollout's decisions (which wave may start, how many may run now,
// whether failures stop it). The Temporal workflow that runs a migration
// builds on it.
package migration
