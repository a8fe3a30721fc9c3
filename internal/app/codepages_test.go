//go:build linux

package app_test

import (
	"testing"

	"backlot.dev/backlot/internal/app"
)

// TestDevReleasesItsStartUpCodePages (Linux, where Release works): once started, dev has dropped its
// mappings of the binary's code and read-only data that start-up touched
// (package codepages), and goes on serving from the pages it maps again.
func TestDevReleasesItsStartUpCodePages(t *testing.T) {
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{examplesCatalog(t)}})
	defer d.Close()
	r := d.CodeReleased()
	t.Logf("%+v", r)
	if r.Skipped != "" {
		// Only a tracer (a debugger running the test) makes Release hold
		// back on Linux.
		t.Fatalf("release skipped: %s", r.Skipped)
	}
	if r.Mappings < 2 || r.ResidentBytes < 1<<20 {
		t.Errorf("dev released %d mappings holding %d bytes, want the binary's code and read-only data, megabytes of them resident after start-up", r.Mappings, r.ResidentBytes)
	}
	var list []map[string]any
	if code := get(t, d, "/api/catalog/entities?filter=kind=component", &list); code != 200 || len(list) == 0 {
		t.Fatalf("components after the release: status %d, %d entities", code, len(list))
	}
}
