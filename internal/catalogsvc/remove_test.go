package catalogsvc_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// countingLog records the size of each append.
type countingLog struct {
	event.PartitionedLog
	mu    sync.Mutex
	sizes []int
}

func (l *countingLog) Append(ctx context.Context, evs []event.Envelope) (int64, error) {
	l.mu.Lock()
	l.sizes = append(l.sizes, len(evs))
	l.mu.Unlock()
	return l.PartitionedLog.Append(ctx, evs)
}

func (l *countingLog) appends() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.sizes...)
}

// TestRemovingALargeLocationAppendsBoundedBatches removes a location of 45
// entities with batches of 10: the removals go in appends of at most 10
// events, every entity's removal before the location's, and nothing of the
// location is left.
func TestRemovingALargeLocationAppendsBoundedBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cl *countingLog
	e := newEnvWith(t, func(c *catalogsvc.Config) {
		cl = &countingLog{PartitionedLog: c.Log}
		c.Log = cl
		c.BatchSize = 10
	})
	var docs []string
	for i := range 45 {
		docs = append(docs, component(fmt.Sprintf("c%02d", i), "production"))
	}
	file := e.write(t, "many.yaml", strings.Join(docs, "---\n"))
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := e.log.Head(ctx)
	before := len(cl.appends())
	if err := e.svc.RemoveLocation(ctx, "user:default/ada", res.Location.ID); err != nil {
		t.Fatal(err)
	}
	sizes := cl.appends()[before:]
	total := 0
	for _, n := range sizes {
		if n > 10 {
			t.Fatalf("appends of %v events, want at most 10 each", sizes)
		}
		total += n
	}
	if len(sizes) < 5 || total != 46 {
		t.Fatalf("appends of %v events, want 45 removals and the location's in at least 5", sizes)
	}
	evs, err := e.log.Read(ctx, head, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		last := i == len(evs)-1
		switch {
		case last && ev.Type != string(event.TypeLocationRemoved):
			t.Fatalf("the last event is %s %s, want the location's removal", ev.Type, ev.Subject)
		case !last && ev.Type != string(event.TypeEntityRemoved):
			t.Fatalf("event %d is %s %s, want an entity's removal", i, ev.Type, ev.Subject)
		case !last:
			seen[ev.Subject] = true
		}
	}
	if len(seen) != 45 {
		t.Fatalf("%d entities removed, want 45", len(seen))
	}
	page, err := e.store.Query(ctx, catalogstore.PageQuery{LocationID: res.Location.ID, CountTotal: true})
	if err != nil || page.TotalItems != 0 {
		t.Fatalf("%d entities of the removed location left (%v)", page.TotalItems, err)
	}
	if _, err := e.store.Location(ctx, res.Location.ID); err == nil {
		t.Fatal("the location is still registered")
	}
}

// TestALocationWhoseFilesAllDisappearedIsEmptiedInBoundedBatches: the
// root file of a location of 45 entities in 3 files stops naming them; the
// refresh removes all 45 in appends of at most 10 events.
func TestALocationWhoseFilesAllDisappearedIsEmptiedInBoundedBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cl *countingLog
	e := newEnvWith(t, func(c *catalogsvc.Config) {
		cl = &countingLog{PartitionedLog: c.Log}
		c.Log = cl
		c.BatchSize = 10
	})
	for f := range 3 {
		var docs []string
		for i := range 15 {
			docs = append(docs, component(fmt.Sprintf("c%d-%02d", f, i), "production"))
		}
		e.write(t, fmt.Sprintf("f%d.yaml", f), strings.Join(docs, "---\n"))
	}
	root := e.write(t, "all.yaml", location("root", "./f0.yaml", "./f1.yaml", "./f2.yaml"))
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
	if err != nil {
		t.Fatal(err)
	}
	before := len(cl.appends())
	e.write(t, "all.yaml", location("root"))
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	sizes := cl.appends()[before:]
	total := 0
	for _, n := range sizes {
		if n > 10 {
			t.Fatalf("appends of %v events, want at most 10 each", sizes)
		}
		total += n
	}
	// The root Location entity changed too.
	if total != 46 {
		t.Fatalf("appends of %v events, want the 45 removals and the root's upsert", sizes)
	}
	page, err := e.store.Query(ctx, catalogstore.PageQuery{LocationID: res.Location.ID, CountTotal: true})
	if err != nil || page.TotalItems != 1 {
		t.Fatalf("%d entities left in the location (%v), want the root Location alone", page.TotalItems, err)
	}
}

// BenchmarkRemoveLocation removes a location of 20,000 entities (read from
// a SQLite read model, appended to a SQLite log, without the fold) and
// reports the peak of the live heap above the start, sampled every
// millisecond, and the wall and CPU time per entity removed.
func BenchmarkRemoveLocation(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	var peak atomic.Uint64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{MmapSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		store, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		reg, err := event.New(event.TypeLocationRegistered, "location:default/generated-l1", event.LocationRegistered{
			ID: "L1", Type: "file", Target: "/catalog/all.yaml", EntityRef: "location:default/generated-l1"}, event.Meta{Actor: "user:default/bench"})
		if err != nil {
			b.Fatal(err)
		}
		reg.Position = n + 1
		if err := store.Apply(ctx, storetest.Components(b, 0, n)); err != nil {
			b.Fatal(err)
		}
		if err := store.Apply(ctx, []event.Envelope{reg}); err != nil {
			b.Fatal(err)
		}
		svc := catalogsvc.New(catalogsvc.Config{Log: event.SinglePartition(log), Store: store, Waiter: nowWaiter{},
			Reader: ingest.NewReader(ingest.Config{}), BatchSize: 1000})
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
						peak.Store(ms.HeapAlloc - base)
					}
				}
			}
		}()
		b.StartTimer()
		cpu0 := processCPU(b)
		if err := svc.RemoveLocation(ctx, "user:default/bench", "L1"); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU(b) - cpu0
		b.StopTimer()
		close(stop)
		<-done
		if head, err := log.Head(ctx); err != nil || head != n+1 {
			b.Fatalf("log head %d after removing %d entities: %v", head, n, err)
		}
		store.Close()
		log.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/entity")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/entity")
}

// processCPU returns the CPU time (user and system) the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
