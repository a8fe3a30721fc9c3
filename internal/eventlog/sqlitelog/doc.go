// Package sqlitelog is the embedded event.Log adapter: an append-only event log in a
// single SQLite file, used by `backlot dev` and by tests. It uses modernc.org/sqlite
// (pure Go, no cgo) through database/sql.
//
// Every event is one row of the events table. Its position is the row's
// INTEGER PRIMARY KEY AUTOINCREMENT key: positions start at 1, grow by one per event,
// are never reused, and a failed append leaves no gap, because the whole append is
// one transaction and a rolled-back transaction also rolls back the key sequence.
//
// The file is opened in WAL mode with synchronous=NORMAL: readers never block the
// writer and the writer never blocks readers. A Log keeps one writer connection and a
// small pool of read connections. Several Logs, in one process or in several, may open
// the same file: SQLite serialises their appends (each waits up to
// Options.BusyTimeout for the write lock), and Wait notices appends made by another
// Log by polling every Options.PollInterval.
//
// The schema is created and upgraded at Open by the numbered SQL files embedded from
// the migrations folder; the schema_version table records which were applied.
package sqlitelog
