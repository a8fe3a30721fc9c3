// Package sqlitewal starts a SQLite file's write-ahead log over after a
// large write: a bulk load, or a build of many rows in one transaction.
//
// Such a write leaves a log much longer than the writer's autocheckpoint
// threshold (wal_autocheckpoint). SQLite starts the log over only when a
// write begins after a checkpoint copied all of it while no reader still
// read from it; with readers at work all the time (pages, polls, the badges'
// evaluator), a checkpoint right after a commit never copies the frames of
// that commit, so the log never starts over. Every later commit then runs a
// checkpoint of its own, with two fsyncs, because the log stays over the
// threshold: an edit's fold after a live bulk load took tens to hundreds of
// milliseconds instead of two. A store therefore resets the log itself once
// the large write ends (Restarter.AfterLargeWrite): a truncating checkpoint,
// which waits a little for the readers of the old frames to finish; while
// readers keep it from succeeding, each later commit tries again
// (Restarter.AfterCommit) until one does.
package sqlitewal
