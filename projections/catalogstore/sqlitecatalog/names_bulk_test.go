package sqlitecatalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// namedEvents are upserts and removals of entities with names, titles and
// display names, each written several times (titles added, changed, dropped,
// several names of one entity in one batch), with positions from start+1.
func namedEvents(t *testing.T, start int64) []event.Envelope {
	t.Helper()
	var out []event.Envelope
	add := func(typ event.Type, subject string, data any) {
		ev, err := event.New(typ, subject, data, event.Meta{Actor: "location:L9"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = start + int64(len(out)) + 1
		out = append(out, ev)
	}
	upsert := func(uid string, body map[string]any) {
		e, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.JSON()
		add(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{Ref: e.Ref().String(), UID: uid, Hash: catalog.HashJSON(raw),
			Entity: json.RawMessage(raw), LocationID: "L9", ManagedBy: "file:/named.yaml", OriginLocation: "file:/named.yaml"})
	}
	component := func(i int, title string) map[string]any {
		md := map[string]any{"name": fmt.Sprintf("Named-%d", i)}
		if title != "" {
			md["title"] = title
		}
		return map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": md,
			"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"}}
	}
	user := func(i int, display string) map[string]any {
		return map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "User",
			"metadata": map[string]any{"name": fmt.Sprintf("user-%d", i), "title": "Zed " + display},
			"spec":     map[string]any{"profile": map[string]any{"displayName": display}, "memberOf": []any{}}}
	}
	for i := range 40 {
		title := ""
		if i%2 == 0 {
			title = fmt.Sprintf("The Named Service %d", 40-i)
		}
		upsert(fmt.Sprintf("n%d", i), component(i, title))
		upsert(fmt.Sprintf("u%d", i), user(i, fmt.Sprintf("Ada Lovelace %d", i)))
	}
	for i := 0; i < 40; i += 3 {
		upsert(fmt.Sprintf("n%d", i), component(i, fmt.Sprintf("Retitled %d", i))) // title added or changed
		upsert(fmt.Sprintf("u%d", i), user(i, "Grace Hopper"))
	}
	upsert("n4", component(4, "")) // title dropped
	for _, i := range []int{5, 7} {
		ref := fmt.Sprintf("component:default/named-%d", i)
		add(event.TypeEntityRemoved, ref, event.EntityRemoved{Ref: ref, UID: fmt.Sprintf("n%d", i), LocationID: "L9"})
	}
	upsert("n5b", component(5, "Back Again")) // recreated under another uid
	return out
}

// TestABulkLoadKeepsTheNamesIndex folds the same events into one store with
// the names index's triggers and into another in a live bulk load, whose
// writer keeps the index itself: the tables, the names index included, are
// the same byte for byte during the load and after it, and the triggers keep
// the index after the load as before it.
func TestABulkLoadKeepsTheNamesIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.History(t, 200, 3)
	evs = append(evs, namedEvents(t, int64(len(evs)))...)
	last := evs[len(evs)-1]
	tail := namedEvents(t, last.Position)[:2] // written after the load
	plain, plainPath := storetest.OpenSQLiteFile(t)
	bulk, bulkPath := storetest.OpenSQLiteFile(t)
	if err := bulk.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []catalogstore.Store{plain, bulk} {
		storetest.ApplyInBatches(t, s, evs, 37)
	}
	want := storetest.SQLiteTables(t, plainPath)
	if !strings.Contains(want, "the named service 38") || !strings.Contains(want, "grace hopper") {
		t.Fatal("the names index lacks the titles and display names written: the test reads nothing")
	}
	if got := storetest.SQLiteTables(t, bulkPath); got != want {
		t.Fatalf("during the bulk load the tables differ from those of the triggers:\n%s", firstDiff(want, got))
	}
	if err := bulk.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []catalogstore.Store{plain, bulk} {
		storetest.ApplyInBatches(t, s, tail, 1)
	}
	if got, want := storetest.SQLiteTables(t, bulkPath), storetest.SQLiteTables(t, plainPath); got != want {
		t.Fatalf("after the bulk load the tables differ from those of the triggers:\n%s", firstDiff(want, got))
	}
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: want %q\n got %q", i+1, wl, gl)
		}
	}
	return "(same lines)"
}
