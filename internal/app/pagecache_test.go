package app_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// TestDevTakesEveryPageCacheFromOneBuffer starts dev in a process of its own
// (the buffer is set up once, before the process's first SQLite connection)
// and loads the example catalog: the buffer has the slots dev asks for, the
// stores' pages are in it, and none was allocated outside it.
func TestDevTakesEveryPageCacheFromOneBuffer(t *testing.T) {
	const env = "BACKLOT_APP_PAGECACHE_CHILD"
	if os.Getenv(env) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), env+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		t.Logf("child process:\n%s", out)
		return
	}
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{examplesCatalog(t)}})
	defer d.Close()
	var list []map[string]any
	if code := get(t, d, "/api/catalog/entities?filter=kind=component", &list); code != 200 || len(list) == 0 {
		t.Fatalf("components: status %d, %d entities", code, len(list))
	}
	s := sqlitekit.PageCacheStatus()
	t.Logf("%+v", s)
	if s.SlotSize == 0 || s.Slots != app.DevPageCacheKiB<<10/s.SlotSize {
		t.Fatalf("shared page cache of %d slots of %d bytes, want %d KiB of them", s.Slots, s.SlotSize, app.DevPageCacheKiB)
	}
	if s.Used == 0 {
		t.Error("no page is in the shared buffer")
	}
	if s.OverflowPeak != 0 {
		t.Errorf("%d bytes of pages were allocated outside the shared buffer, want none while it has room", s.OverflowPeak)
	}
}
