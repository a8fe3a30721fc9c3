// Package rebuild replays backlot dev's embedded event log from its start into
// fresh read models (the catalog, its history, the badges) and swaps them in for
// the old ones: the proof that read models are disposable, and the cure for a
// read model that was damaged or built by an older fold. The server must not be
// running while it works.
package rebuild
