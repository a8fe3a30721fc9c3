package main

import (
	"net/http"

	"backlot.dev/backlot/internal/bench"
	"backlot.dev/backlot/internal/ports"
)

// freePort returns a free loopback port below the kernel's ephemeral range.
func freePort() (int, error) { return ports.Free("127.0.0.1") }

// getJSON GETs u and decodes its JSON answer into v (bench.GetJSON).
func getJSON(c *http.Client, u string, v any) error { return bench.GetJSON(c, u, v) }

// totalItems answers the catalog's entity count (bench.TotalItems).
func totalItems(c *http.Client, base string) (int, error) { return bench.TotalItems(c, base) }
