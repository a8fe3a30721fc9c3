// Command backlot is Backlot's one binary. `backlot dev` runs every role in one
// process on embedded stores; `backlot catalog` is a client of a running server
// (BACKLOT_URL, --output json for scripts); `backlot projections rebuild` replays
// the event log into a fresh read model; `backlot bench catalog` measures a whole
// server on a synthetic catalog. The package holds flags and wiring only: the
// bench harness is internal/bench, and nothing here links test code (the
// in-process Kafka broker included; internal/bench checks it).
package main
