// Package golden guards the oldest promise of an event-sourced system: the
// events written by one release replay, identically, in every later one.
//
// testdata/v1 holds a golden event log recorded by `backlot dev` (the example
// catalog's life: registrations, edits, removals, facts, badges, a scaffolder
// task and a migration) together with the read models it folded to: canonical
// dumps of the catalog, history and badge read models. The package's tests
// replay the log into fresh read models on SQLite and on PostgreSQL and
// compare each with the dumps, and with each other; a change to an event type
// that the old log no longer fits fails, naming the event type and the field.
//
// Recording is a separate, explicit step, never part of the normal test run:
//
//	go test -tags golden_record -run TestRecord ./internal/golden -args -release v2
//
// It starts `backlot dev` in the process (with its embedded Temporal server,
// which is why it sits behind the build tag: the package's own tests do not
// link the server) and writes a new release folder. Record a new folder only
// when a release deliberately introduces a new event version; a folder once
// committed is never rewritten (see internal/eventschema/EVOLUTION.md).
//
// When a read model deliberately changes what it holds, the dumps (never the
// logs) are rewritten from a replay that SQLite and PostgreSQL agree on, and
// their diff is reviewed in the same commit:
//
//	go test ./internal/golden -run TestGoldenLogReplaysToTheCommittedReadModels -args -update-dumps
package golden
