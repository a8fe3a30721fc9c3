package storetest

import (
	"context"
	"runtime"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
)

// ownedStreamEntities is the size of the location CheckOwnedStreams reads:
// held whole, its entries take about 1 MB (0.97 MB read by PostgreSQL).
const ownedStreamEntities = 5_000

// ownedStreamSlack bounds what a store may hold to yield the first owned
// entity: a page of rows, a driver's buffers.
const ownedStreamSlack = 256 << 10

// CheckOwnedStreams checks that a store's refresh.State yields the entities
// a location owns as it reads them, not once it has read them all: at the
// first one yielded, of a location of 5,000 in one file, the live heap has
// grown by less than 256 KiB, where the whole list is about 1 MB. It
// measures the process's heap, so its caller must not run in parallel with
// other tests.
func CheckOwnedStreams(t *testing.T, st catalogstore.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.Apply(ctx, Components(t, 0, ownedStreamEntities)); err != nil {
		t.Fatal(err)
	}
	sn, err := st.Snapshot(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	var atFirst uint64
	n := 0
	for range sn.Owned("L1", nil) {
		if n == 0 {
			atFirst = liveHeap()
		}
		n++
	}
	if e, ok := sn.(interface{ Err() error }); ok && e.Err() != nil {
		t.Fatal(e.Err())
	}
	t.Logf("live heap before the first owned entity: %d bytes more", int64(atFirst)-int64(before))
	if n != ownedStreamEntities {
		t.Fatalf("Owned yielded %d entities, want %d", n, ownedStreamEntities)
	}
	if atFirst > before && atFirst-before > ownedStreamSlack {
		t.Fatalf("the live heap grew by %d bytes before the first owned entity was yielded, want less than %d: the store read the location whole", atFirst-before, ownedStreamSlack)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
