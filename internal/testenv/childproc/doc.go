// Package childproc re-runs a test in a process of its own: for what a
// process sets up once, before its first use (SQLite's shared page cache, its
// memory statistics), each case needs a fresh process.
package childproc
