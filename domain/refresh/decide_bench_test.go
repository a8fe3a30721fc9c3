package refresh_test

import (
	"fmt"
	"iter"
	"runtime"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// largeState is the read model of one location of n entities, as the
// ingester meets it at the end of a first load whose events the projector
// has folded meanwhile: Lookup finds nothing (the walk decided before the
// fold), Owned lists all n. It holds no entity itself: each Known is made
// as a store would read it, so the heap it measures is the decision's.
type largeState struct {
	n int
	// probe measures the live heap every probeEvery calls.
	probe *heapProbe
	calls int
}

func ownedKnown(i int) refresh.Known {
	key := fmt.Sprintf("component:default/svc-%07d", i)
	return refresh.Known{Key: key, UID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		Hash: fmt.Sprintf("%064d", i), LocationID: "L1", ManagedBy: fmt.Sprintf("file:/c/team-%04d.yaml", i/100)}
}

func (s *largeState) tick() {
	s.calls++
	if s.calls%probeEvery == 0 {
		s.probe.measure()
	}
}

func (s *largeState) Lookup(string) (refresh.Known, bool)   { s.tick(); return refresh.Known{}, false }
func (s *largeState) Errors(string) []event.ProcessingError { return nil }

// heapProbe records the largest live heap it measured above a baseline.
type heapProbe struct {
	base, peak uint64
}

// probeEvery is how many calls of the state pass between two measures.
const probeEvery = 50_000

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (p *heapProbe) measure() {
	if h := liveHeap(); h > p.base && h-p.base > p.peak {
		p.peak = h - p.base
	}
}

// BenchmarkDecideLargeLocation decides a first load of one location of n
// entities: n observations, then Finish over the n entities the location
// owns by then. peak-live-MB is the largest live heap above the start that a
// forced collection found while the decision ran (every 50,000 calls of the
// state and once more at the end of Owned); the collections inflate ns/op.
func BenchmarkDecideLargeLocation(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("owned=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for range b.N {
				probe := &heapProbe{}
				st := &largeState{n: n, probe: probe}
				probe.base = liveHeap()
				d := refresh.NewDecider(refresh.Location{ID: "L1", Type: "file", Target: "/c/catalog.yaml", EntityRef: "location:default/generated-c"},
					st, event.Meta{}, func() string { return "uid" })
				for i := range n {
					e, err := catalog.NewEntity(map[string]any{
						"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
						"metadata": map[string]any{"name": fmt.Sprintf("svc-%07d", i)},
						"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
					})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := d.Observe(refresh.Observed{Entity: e, ManagedBy: fmt.Sprintf("file:/c/team-%04d.yaml", i/100)}); err != nil {
						b.Fatal(err)
					}
				}
				evs, err := d.Finish()
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) != 0 {
					b.Fatalf("Finish decided %d events, want none", len(evs))
				}
				peak = max(peak, probe.peak)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
		})
	}
}

// Owned yields the location's n entities one by one, as a store reads
// them, measuring the heap every probeEvery entities and after the last.
func (s *largeState) Owned(string, map[string]bool) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for i := range s.n {
			if !yield(ownedKnown(i)) {
				return
			}
			s.tick()
		}
		s.probe.measure()
	}
}
