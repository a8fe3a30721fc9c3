// Package app wires Backlot's roles together, and holds nothing but the wiring.
//
// Each role is built by one constructor over ports: newAPIRole (the HTTP API),
// newProjectorRole (the read models' projectors, the badge evaluator and the
// Watermill handlers), newIngesterRole (the configured catalogs and the refresh
// loop) and newWorkerRole (the Temporal workers). StartDev passes them the
// embedded adapters (the SQLite event log and read models, the in-process
// Temporal server when configured) and runs every role; StartServe passes them
// the production adapters (Kafka, PostgreSQL, a Temporal cluster) and runs the
// roles it is given. The two differ only in the adapters.
//
// Each constructor records what it built in a Manifest (routes, Watermill
// handlers, task queues, background runners), so a test can assert that dev
// serves what serve with every role serves.
//
// The features the roles serve live in the rooms of their concepts: audit
// (event queries and verification), feed (the change feed reader), rebuild
// (replaying the log into fresh read models), collect/repocollect (facts of an
// entity's repository).
package app
