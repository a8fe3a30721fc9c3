// Package migratesvc is the fleet-migration service behind the API: it
// parses and validates a Migration spec, chooses its targets from the
// catalog, previews a dry run, starts the migration workflow on Temporal,
// reads its progress and sends it pause, resume, cancel, retry-failed and
// close-prs. Hosts dispatches each repository to the git host that holds it.
package migratesvc
