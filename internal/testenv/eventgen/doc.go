// Package eventgen makes synthetic catalog events for tests and benchmarks of
// the event log, the projectors and the read models.
package eventgen
