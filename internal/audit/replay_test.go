package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// replayLog is a log with the whole life of a catalog: storetest.History
// (locations registered and removed, edits, files gone, broken documents and
// invalid entities with status items, mixed spellings, a delete through the
// API), the generator's components written, all edited and some removed, and
// entities in other namespaces renamed, recreated, removed stale and upserted
// again unchanged. Each event goes through JSON as the audit API sends it.
func replayLog(t *testing.T) []event.Envelope {
	t.Helper()
	evs := storetest.History(t, 300, 7)
	for _, version := range []int{1, 2} {
		ups, err := gen.ComponentUpserts(5, 200, version)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ups...)
	}
	rms, err := gen.ComponentRemovals(5, 3, 50, 199)
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs, rms...)
	emit := func(typ event.Type, subject string, data any) {
		t.Helper()
		ev, err := event.New(typ, subject, data, event.Meta{Actor: "user:default/auditor"})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	upsert := func(ns, name, uid, owner string) string {
		t.Helper()
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": owner, "weight": 1.5, "replicas": 3, "dependsOn": []any{"component:default/Payments-Core"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		body := e.JSON()
		emit(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{Ref: e.Ref().String(), UID: uid, Hash: catalog.HashJSON(body), Entity: body, LocationID: "L2"})
		return e.Ref().Key()
	}
	remove := func(key, uid string) {
		emit(event.TypeEntityRemoved, key, event.EntityRemoved{Ref: key, UID: uid, LocationID: "L2", Reason: "test"})
	}
	old := upsert("payments", "old-name", "uid-p1", "group:payments/Team-Pay")
	upsert("ops", "Runner", "uid-o1", "group:ops/sre")
	upsert("ops", "Runner", "uid-o1", "group:ops/sre") // the same again: nothing changes
	remove(old, "uid-p1")                              // renamed: the old name goes…
	upsert("payments", "new-name", "uid-p1", "group:payments/Team-Pay")
	again := upsert("payments", "recreated", "uid-r1", "team-a")
	remove(again, "uid-r1")
	upsert("payments", "recreated", "uid-r2", "team-b")
	remove(again, "uid-r1") // stale: it was recreated with another uid

	for i := range evs {
		raw, err := json.Marshal(evs[i])
		if err != nil {
			t.Fatal(err)
		}
		var back event.Envelope
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		back.Position = int64(i) + 1
		evs[i] = back
	}
	return evs
}

// TestReplayWritesWhatTheReadModelAnswers replays one log two ways: through
// a fresh catalog read model, read back page by page (how `audit replay`
// wrote the catalog before Replay), and through Replay. Every file must be the
// same, byte for byte.
func TestReplayWritesWhatTheReadModelAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := replayLog(t)

	store, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(evs); start += 97 {
		if err := store.Apply(ctx, evs[start:min(start+97, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(t.TempDir(), "want")
	wantN := readModelYAML(t, store, want)

	spillDir := t.TempDir()
	spilling, err := audit.NewSpillingReplay(spillDir)
	if err != nil {
		t.Fatal(err)
	}
	// Spilled many times over, the held bodies each time.
	audit.SetHoldLimit(spilling, 64<<10)
	holding, err := audit.NewSpillingReplay(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer holding.Close()
	for name, r := range map[string]*audit.Replay{"in memory": audit.NewReplay(), "spilling": spilling, "holding": holding} {
		t.Run(name, func(t *testing.T) { compareReplay(t, r, evs, want, wantN) })
	}
	// The spilling replay kept its bodies in its file, which Close removes.
	files, _ := filepath.Glob(filepath.Join(spillDir, "*"))
	if len(files) != 1 {
		t.Fatalf("spill folder holds %v, want one file", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Size() < 100_000 {
		t.Errorf("spill file: %v, %v; want the bodies in it", fi, err)
	}
	if err := spilling.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(spillDir, "*")); len(files) != 0 {
		t.Errorf("after Close the spill folder holds %v", files)
	}
}

// compareReplay applies evs to r, writes its YAML and compares every file with
// those under want, which holds wantN.
func compareReplay(t *testing.T, r *audit.Replay, evs []event.Envelope, want string, wantN int) {
	ctx := context.Background()
	for start := 0; start < len(evs); start += 1000 {
		if err := r.Apply(evs[start:min(start+1000, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	got := filepath.Join(t.TempDir(), "got")
	n, err := r.WriteYAML(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if r.Events() != int64(len(evs)) {
		t.Errorf("Events() = %d, want %d", r.Events(), len(evs))
	}
	if n != wantN || n < 400 {
		t.Errorf("wrote %d entities, the read model holds %d (want over 400)", n, wantN)
	}
	wantFiles, gotFiles := readTree(t, want), readTree(t, got)
	for path, w := range wantFiles {
		g, ok := gotFiles[path]
		switch {
		case !ok:
			t.Errorf("%s: missing", path)
		case !bytes.Equal(g, w):
			t.Errorf("%s differs:\n--- read model\n%s\n--- replay\n%s", path, w, g)
		}
	}
	for path := range gotFiles {
		if _, ok := wantFiles[path]; !ok {
			t.Errorf("%s: written, but not in the read model", path)
		}
	}
	// The log's story shows in the files, so the comparison is not vacuous.
	for path, present := range map[string]bool{
		"component/payments/new-name.yaml":  true,
		"component/payments/old-name.yaml":  false,
		"component/payments/recreated.yaml": true,
		"component/ops/runner.yaml":         true,
	} {
		if _, ok := gotFiles[path]; ok != present {
			t.Errorf("%s: present %v, want %v", path, ok, present)
		}
	}
	if b := gotFiles["component/payments/recreated.yaml"]; !bytes.Contains(b, []byte("uid: uid-r2")) {
		t.Errorf("recreated entity:\n%s", b)
	}
	withStatus := 0
	for _, b := range gotFiles {
		if bytes.Contains(b, []byte("\nstatus:\n")) {
			withStatus++
		}
	}
	if withStatus == 0 {
		t.Error("no entity carries status items: the log's processing errors were lost")
	}
}

// TestReplayNamesABadEvent checks a body that does not decode fails the
// replay naming the entity and its event.
func TestReplayNamesABadEvent(t *testing.T) {
	t.Parallel()
	ev, err := event.New(event.TypeEntityUpserted, "component:default/broken", event.EntityUpserted{Ref: "component:default/broken", UID: "u", Hash: "h", Entity: json.RawMessage(`{"kind":"Component"}`)}, event.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	r := audit.NewReplay()
	if err := r.Apply([]event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
	_, err = r.WriteYAML(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "component:default/broken") || !strings.Contains(err.Error(), ev.ID) {
		t.Fatalf("err = %v, want one naming the entity and event %s", err, ev.ID)
	}
}

// readModelYAML writes every entity of r as KIND/NAMESPACE/NAME.yaml under
// dir, page by page, as `audit replay` did before Replay.
func readModelYAML(t *testing.T, r catalogstore.Reader, dir string) int {
	t.Helper()
	n := 0
	var after *catalogstore.Keyset
	for {
		page, err := r.Query(context.Background(), catalogstore.PageQuery{Limit: 500, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Items {
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			kind, rest, _ := strings.Cut(v.Key, ":")
			ns, name, _ := strings.Cut(rest, "/")
			path := filepath.Join(dir, kind, ns, name+".yaml")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if !page.HasNext {
			return n
		}
		after = page.Last
	}
}

// readTree reads every file under dir by its slash-separated relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
