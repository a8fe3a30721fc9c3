package app_test

import (
	"testing"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/testenv/childproc"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// TestDevTakesEveryPageCacheFromOneBuffer starts dev in a process of its own
// (the buffer is set up once, before the process's first SQLite connection)
// and loads the example catalog: the buffer has the slots dev asks for, the
// stores' pages are in it, and none was allocated outside it.
func TestDevTakesEveryPageCacheFromOneBuffer(t *testing.T) {
	const env = "BACKLOT_APP_PAGECACHE_CHILD"
	if !childproc.Run(t, env, "1") {
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
