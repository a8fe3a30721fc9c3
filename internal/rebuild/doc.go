// Package rebuild replays an event log from its start into fresh read models:
// the proof that read models are disposable, and the cure for a read model that
// was damaged or built by an older fold.
//
// Catalog replays backlot dev's embedded log into fresh SQLite read models (the
// catalog, its history, the badges) and swaps them in for the old ones; the
// server must not be running while it works. PostgresCatalog replays the Kafka
// event topic into the PostgreSQL catalog read model of a database, with any
// number of projectors sharing the topic's partitions in one consumer group, as
// serve's projector processes do.
package rebuild
