// Command backlot is Backlot's one binary. `backlot dev` runs every role in one
// process on embedded stores; `backlot catalog` is a client of a running server
// (BACKLOT_URL, --output json for scripts); `backlot projections rebuild` replays
// the event log into a fresh read model; `backlot bench catalog` measures a whole
// server on a synthetic catalog.
package main
