package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
)

// awkwardLog is replayLog with components whose descriptions, annotations,
// labels, tags and links hold strings every YAML style is needed for:
// quotes, colons, hashes, newlines, unicode, numbers and booleans as
// strings, empty values and long lines.
func awkwardLog(t *testing.T) []event.Envelope {
	t.Helper()
	evs := replayLog(t)
	values := []string{
		"", " ", "a: b", "#hash", "it's", `say "hi"`, "multi\nline\n", "trailing newline\n", "\nleading", "tab\there",
		"café ☕", "日本語", "0123", "1.0", "1e3", "true", "no", "null", "~", "0x1F", "12:30", "2026-12-06", "- dash", "[list]",
		"{map}", "@at", "%pct", strings.Repeat("long line ", 50), "a\u2028b", "back\\slash", "https://x.example/a?b=c#d",
	}
	for i, v := range values {
		name := "awkward-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{
				"name": name, "description": v, "title": "title " + v,
				"annotations": map[string]any{"example.com/value": v, "example.com/k10": "ten", "example.com/k9": "nine"},
				"labels":      map[string]any{"tier": "1"},
				"tags":        []any{"go", "v1"},
				"links":       []any{map[string]any{"url": "https://x.example/" + name, "title": "link " + v}},
			},
			"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a", "weight": 1.5, "note": v, "empty": map[string]any{}, "none": []any{}, "nested": []any{[]any{v, 2.0}, nil, true}},
		})
		if err != nil {
			t.Fatalf("value %q: %v", v, err)
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{Ref: e.Ref().String(), UID: "uid-" + name, Hash: catalog.HashJSON(body), Entity: body, LocationID: "L2"}, event.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(len(evs)) + 1
		evs = append(evs, ev)
	}
	return evs
}

// TestWriteYAMLIsYAMLv3ByteForByte writes a generated catalog history (the
// life of a catalog and components full of awkward strings) with the replay's
// own YAML writer and with yaml.v3 alone, and compares every file; most files
// must have gone through the own writer, so the comparison is not vacuous.
func TestWriteYAMLIsYAMLv3ByteForByte(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := awkwardLog(t)
	write := func(v3 bool) (string, audit.WriteStats) {
		r, err := audit.NewSpillingReplay(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if v3 {
			audit.RenderAllWithYAMLv3(r)
		}
		if err := r.Apply(evs); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "out")
		st, err := r.WriteYAMLStats(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return dir, st
	}
	wantDir, wantSt := write(true)
	gotDir, gotSt := write(false)
	want, got := readTree(t, wantDir), readTree(t, gotDir)
	if len(want) < 400 || len(got) != len(want) || gotSt.Files != len(got) {
		t.Fatalf("wrote %d files (%+v), yaml.v3 %d", len(got), gotSt, len(want))
	}
	for path, w := range want {
		if g := got[path]; !bytes.Equal(g, w) {
			t.Errorf("%s differs:\n--- yaml.v3\n%s\n--- own writer\n%s", path, w, g)
		}
	}
	if wantSt.Slow != len(want) {
		t.Errorf("yaml.v3 alone rendered %d of %d files", wantSt.Slow, len(want))
	}
	// Multi-line strings and entities with processing errors are left to
	// yaml.v3; everything else is the own writer's.
	if gotSt.Slow == 0 || gotSt.Slow > len(got)/10 {
		t.Errorf("yaml.v3 rendered %d of %d files; want a few (multi-line strings, status items)", gotSt.Slow, len(got))
	}
	for _, path := range []string{"component/default/awkward-ga.yaml", "component/default/awkward-ab.yaml"} {
		if _, ok := got[path]; !ok {
			t.Errorf("%s not written", path)
		}
	}
}

// TestWriteYAMLRewritesOnlyWhatChanged replays into a folder written before:
// every file is found the same and left alone (its modification time kept);
// a file changed since, or removed, is written again.
func TestWriteYAMLRewritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := audit.NewReplay()
	if err := r.Apply(replayLog(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, err := r.WriteYAMLStats(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Unchanged != 0 || first.Files < 400 {
		t.Fatalf("first write: %+v", first)
	}
	before := readTree(t, dir)
	changed := filepath.Join(dir, "component", "payments", "new-name.yaml")
	removed := filepath.Join(dir, "component", "ops", "runner.yaml")
	if err := os.WriteFile(changed, []byte("edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(removed); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(dir, "component", "payments", "recreated.yaml")
	old, _ := os.Stat(kept)
	second, err := r.WriteYAMLStats(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if second.Files != first.Files || second.Unchanged != first.Files-2 {
		t.Errorf("second write: %+v, want %d files of which all but 2 unchanged", second, first.Files)
	}
	after := readTree(t, dir)
	for path, b := range before {
		if !bytes.Equal(after[path], b) {
			t.Errorf("%s differs after the second write", path)
		}
	}
	if now, _ := os.Stat(kept); !now.ModTime().Equal(old.ModTime()) {
		t.Errorf("%s was rewritten", kept)
	}
}
