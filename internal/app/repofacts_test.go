package app_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/app"
)

// TestBadgesFollowAFileAddedBesideAnUnchangedDescriptor rates a repository
// with the example test-certification policy, then adds a CODEOWNERS file
// beside its catalog-info.yaml, which does not change. The next refresh of
// the location collects the repository's facts again, and has-codeowners
// passes. A refresh with nothing changed writes no event, before and after.
func TestBadgesFollowAFileAddedBesideAnUnchangedDescriptor(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"orders/catalog-info.yaml": component("orders", "production"),
		"orders/README.md":         "# orders\n",
	})
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{dir, examples}})
	defer d.Close()
	base := "http://" + d.Addr()
	for _, f := range []string{filepath.Join(examples, "test-certification.yaml"), filepath.Join(dir, "orders", "catalog-info.yaml")} {
		if code, _ := postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
			t.Fatalf("register %s: %d", f, code)
		}
	}
	waitBadges(t, d)
	codeowners := func() bool {
		t.Helper()
		for _, c := range badgesOf(t, d, "component/default/orders", "")["test-certification"].Checks {
			if c.ID == "has-codeowners" {
				return c.Passed
			}
		}
		t.Fatal("test-certification has no has-codeowners check for orders")
		return false
	}
	if codeowners() {
		t.Fatal("has-codeowners passes before the repository has a CODEOWNERS file")
	}
	ctx := context.Background()
	head := func() int64 {
		t.Helper()
		h, err := d.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	refresh := func() {
		t.Helper()
		if code, _ := postJSON(t, base+"/api/catalog/refresh", map[string]string{"entityRef": "component:default/orders"}, nil); code/100 != 2 {
			t.Fatalf("refresh: %d", code)
		}
		waitBadges(t, d)
	}

	before := head()
	refresh()
	refresh()
	if got := head(); got != before {
		t.Fatalf("refreshes of an unchanged repository wrote %d events", got-before)
	}

	writeFiles(t, dir, map[string]string{"orders/CODEOWNERS": "* @team-a\n"})
	refresh()
	if got := head(); got <= before {
		t.Fatal("the refresh after CODEOWNERS was added wrote no event")
	}
	if !codeowners() {
		t.Fatal("has-codeowners fails after a CODEOWNERS file was added beside the unchanged descriptor and the location refreshed")
	}
	after := head()
	refresh()
	if got := head(); got != after {
		t.Fatalf("a refresh with nothing changed since wrote %d events", got-after)
	}
}
