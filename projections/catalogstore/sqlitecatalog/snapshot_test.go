package sqlitecatalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestPrefetchedLookupsAnswerAsSingleOnes: a snapshot that looked keys up in
// bulk answers Lookup for each of them, present or absent, as one that looks
// them up one by one.
func TestPrefetchedLookupsAnswerAsSingleOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := upserts(t, 0, 5)
	if err := st.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	keys := []string{evs[0].Subject, evs[3].Subject, "component:default/absent", evs[4].Subject}
	single, err := st.Snapshot(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := st.Snapshot(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := bulk.(interface{ Prefetch([]string) })
	if !ok {
		t.Fatal("the SQLite snapshot does not prefetch")
	}
	p.Prefetch(keys)
	for _, k := range append(keys, evs[1].Subject) { // the last one was not prefetched
		want, wantOK := single.Lookup(k)
		got, gotOK := bulk.Lookup(k)
		if got != want || gotOK != wantOK {
			t.Errorf("Lookup(%s) = %+v, %v after Prefetch; want %+v, %v", k, got, gotOK, want, wantOK)
		}
	}
	if k, ok := single.Lookup(evs[0].Subject); !ok || k.UID == "" {
		t.Fatalf("Lookup(%s) = %+v, %v: the test reads nothing", evs[0].Subject, k, ok)
	}
	var _ refresh.State = bulk
}

// TestOwnedListsEveryFileOfTheLocation: the files of a location are listed
// by seeking from one to the next; every entity of every file not excepted
// is listed, and nothing of another location.
func TestOwnedListsEveryFileOfTheLocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// 12 entities: 11 of location L1 in files f0, f1 and f2, one of L2.
	var evs []event.Envelope
	for i := range 12 {
		e, err := catalog.NewEntity(storetest.ComponentBody(i, 40))
		if err != nil {
			t.Fatal(err)
		}
		loc, file := "L1", fmt.Sprintf("file:/c/f%d.yaml", i%3)
		if i == 11 {
			loc, file = "L2", "file:/c/f9.yaml"
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
			LocationID: loc, ManagedBy: file, OriginLocation: "file:/c/all.yaml",
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
	count := func(ks iter.Seq[refresh.Known]) map[string]int {
		m := map[string]int{}
		for k := range ks {
			m[k.LocationID+" "+k.ManagedBy]++
		}
		return m
	}
	want := map[string]int{"L1 file:/c/f0.yaml": 4, "L1 file:/c/f1.yaml": 4, "L1 file:/c/f2.yaml": 3}
	if got := count(sn.Owned("L1", nil)); !maps.Equal(got, want) {
		t.Fatalf("Owned(L1) = %v, want %v", got, want)
	}
	delete(want, "L1 file:/c/f1.yaml")
	if got := count(sn.Owned("L1", map[string]bool{"file:/c/f1.yaml": true})); !maps.Equal(got, want) {
		t.Fatalf("Owned(L1) except f1 = %v, want %v", got, want)
	}
	if got := slices.Collect(sn.Owned("L3", nil)); len(got) != 0 {
		t.Fatalf("Owned of a location with no entity = %v", got)
	}
}

// TestOwnedStreams: the entities of a location are yielded as each file's
// query reads them, not read whole first. Not parallel: it measures the heap.
func TestOwnedStreams(t *testing.T) {
	storetest.CheckOwnedStreams(t, openStore(t))
}
