// Package audit answers the auditors' questions over the event log and the
// history read model: the raw events filtered by subject, type, actor,
// correlation and time, the verification that nothing was altered, an
// entity's versions with the field-level changes of each, and what changed in
// the catalog between two instants.
//
// Service is what the HTTP edge calls: one method per question, each with its
// own result type (EventPage, EntityHistory, Diff) and fault categories for
// errors. Log is the port of the event log it reads; Embedded serves it from
// the embedded SQLite log, whose hash chain it recomputes, and checks the
// history read model against the log and a fresh fold of it. Kafka serves it
// from the Kafka log, which keeps no chain: the history's digests are the
// reference its records are compared with. CaughtUpHistory is the history
// reader the audit endpoints read through, so a client that just saw a write
// sees it in the history too.
//
// Replay folds the log into the catalog of an instant and writes it as one
// YAML file per entity (`backlot audit replay`), with its own YAML writer:
// each body is written straight from its JSON (jsonTree, with the stored
// fields and relations put in), else from the plain values JSON decodes
// into, byte for byte what yaml.v3 writes, which it falls back on for what
// the writer does not follow. A body is read only to the end of the fold:
// the fold reads an upsert's uid and hash alone.
package audit
