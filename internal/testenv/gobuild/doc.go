// Package gobuild builds a Go program once for a test binary's tests: the
// process-level tests (cmd/backlot's restart and kill -9 tests, the security
// suite) run the backlot binary as an operator installs it, and linking it
// (the Temporal server included) takes seconds, so they share one build.
package gobuild
