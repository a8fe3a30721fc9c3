package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/projections/catalogstore"
)

// CheckOwnedBy checks a store's refresh.FileState: OwnedBy yields the
// entities a location owns from the files asked, file by file in the order
// asked, and nothing of other files or other locations.
func CheckOwnedBy(t *testing.T, st catalogstore.Store) {
	t.Helper()
	ctx := context.Background()
	var evs []event.Envelope
	for i := range 12 {
		e, err := catalog.NewEntity(ComponentBody(i, 40))
		if err != nil {
			t.Fatal(err)
		}
		loc, file := "L1", fmt.Sprintf("file:/catalog/f%d.yaml", i%3)
		if i >= 9 {
			loc = "L2" // the same file names, another location
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
			LocationID: loc, ManagedBy: file, OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:" + loc})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(i) + 1
		evs = append(evs, ev)
	}
	if err := st.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	sn, err := st.Snapshot(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	fs, ok := sn.(refresh.FileState)
	if !ok {
		t.Fatal("the store's snapshot is no refresh.FileState")
	}
	var got []string
	for k := range fs.OwnedBy("L1", []string{"file:/catalog/f2.yaml", "file:/catalog/none.yaml", "file:/catalog/f0.yaml"}) {
		if k.LocationID != "L1" || k.UID == "" || k.Hash == "" {
			t.Fatalf("OwnedBy yielded %+v", k)
		}
		got = append(got, k.ManagedBy+" "+k.UID)
	}
	if e, ok := sn.(interface{ Err() error }); ok && e.Err() != nil {
		t.Fatal(e.Err())
	}
	want := []string{
		"file:/catalog/f2.yaml uid-2", "file:/catalog/f2.yaml uid-5", "file:/catalog/f2.yaml uid-8",
		"file:/catalog/f0.yaml uid-0", "file:/catalog/f0.yaml uid-3", "file:/catalog/f0.yaml uid-6",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("OwnedBy yielded %q, want %q", got, want)
	}
	// A caller that stops early is yielded nothing more.
	n := 0
	for range fs.OwnedBy("L1", []string{"file:/catalog/f1.yaml", "file:/catalog/f0.yaml"}) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("stopped after %d entities, want 2", n)
	}
	if none := slices.Collect(fs.OwnedBy("L1", nil)); len(none) != 0 {
		t.Fatalf("OwnedBy of no file yielded %+v", none)
	}
}
