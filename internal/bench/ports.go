package bench

import "backlot.dev/backlot/internal/ports"

// freePort returns a free loopback port below the kernel's ephemeral range, so
// that it does not clash with the outgoing connections of the server under
// test (the same choice as the embedded Temporal server's ports).
func freePort() (int, error) { return ports.Free("127.0.0.1") }
