// Package migration holds Backlot's fleet migrations: the Migration spec
// (targets by CEL selector or refs, a change script, the pull request, the
// rollout's pacing and waves, the merge mode), checked with errors that name
// the field; the choice of targets and their repositories from the catalog;
// and the rollout's decisions (which wave may start, how many may run now,
// whether failures stop it).
//
// MigrationWorkflow runs a migration on Temporal: a sliding window of
// RepoWorkflow children (one per target: clone, run the script, push a
// branch, open the change request), wave after wave, paced by the rollout;
// it tracks the change requests until they are merged or closed, takes
// pause, resume, cancel, retry-failed, close-prs and change-updated signals,
// answers the progress query, records every transition as a catalog event,
// and continues as new before its history grows large. The Activities do
// the git and host work; client.go holds the API layer's helpers (Start,
// Progress, the signals) and DryRun, which previews the diffs without
// pushing.
package migration
