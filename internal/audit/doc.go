// Package audit answers the auditors' questions over the event log: the raw
// events filtered by subject, type, actor, correlation and time, and the
// verification that nothing was altered.
//
// Embedded serves them from the embedded SQLite log, whose hash chain it
// recomputes, and checks the history read model against the log and a fresh
// fold of it. Kafka serves them from the Kafka log, which keeps no chain: the
// history's digests are the reference its records are compared with.
// CaughtUpHistory is the history reader the audit endpoints read through, so
// a client that just saw a write sees it in the history too.
package audit
