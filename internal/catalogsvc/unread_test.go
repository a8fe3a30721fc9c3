package catalogsvc_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// A target that cannot be read at all (a vanished folder, an unreadable root
// file) hides every file it names, so a refresh removes nothing: losing the
// mount of a catalog folder must not empty the catalog.
func TestAnUnreadableTargetRemovesNothingItHides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	sub := filepath.Join(e.root, "teams")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one", "two"} {
		e.write(t, filepath.Join("teams", n+".yaml"), component(n, "production"))
	}
	e.write(t, "solo.yaml", component("solo", "production"))
	// The root file names a glob over a folder and a single file.
	root := e.write(t, "all.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: all
spec:
  targets:
    - ./teams/*.yaml
    - ./solo.yaml
`)
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"component:default/one", "component:default/two", "component:default/solo", "location:default/all"}
	for _, k := range keys {
		if !e.exists(t, k) {
			t.Fatalf("%s not registered", k)
		}
	}
	removals := func() []string {
		t.Helper()
		evs, err := e.log.Read(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			if ev.Type == string(event.TypeEntityRemoved) {
				out = append(out, ev.Subject)
			}
		}
		return out
	}

	// The glob's folder vanishes: its entities stay, and so does the rest.
	if err := os.Rename(sub, sub+".gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if r := removals(); len(r) != 0 {
		t.Fatalf("a vanished folder removed %v", r)
	}

	// The root file vanishes too: nothing below it is removed either, and
	// the location records why.
	if err := os.Rename(root, root+".gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if r := removals(); len(r) != 0 {
		t.Fatalf("an unreadable root file removed %v", r)
	}
	for _, k := range keys {
		if !e.exists(t, k) {
			t.Fatalf("%s was lost while its files could not be read", k)
		}
	}
	evs, err := e.log.Read(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Type != string(event.TypeProcessingErrorRecorded) || !strings.Contains(string(last.Data), "all.yaml") || !strings.Contains(string(last.Data), "NotFoundError") {
		t.Fatalf("last event %s %s, want the root file's not-found error recorded", last.Type, last.Data)
	}

	// Both come back; then a file deleted on purpose from a readable folder
	// is removed as before.
	if err := os.Rename(root+".gone", root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(sub+".gone", sub); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(sub, "two.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if r := removals(); strings.Join(r, ",") != "component:default/two" {
		t.Fatalf("removals %v, want only component:default/two", r)
	}
}
