package sqlitecatalog_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkFacetsLarge measures facets on a generated catalog of
// BACKLOT_BENCH_ENTITIES entities (default 30,000), as pgcatalog's
// BenchmarkQueryLarge does: facetsOwner, uncached (a different owner each
// time), facets of every component, cached after the first, and the kind
// facet of every entity and the kind and name facets of an owner's
// components after a write. When
// BACKLOT_BENCH_SQLITE_STORE names a file, the read model is built there
// once and read as it is by later runs. Each reports p50 and p95 latency
// and the process's CPU time per request (SQLite runs in it).
func BenchmarkFacetsLarge(b *testing.B) {
	ctx := context.Background()
	path := os.Getenv("BACKLOT_BENCH_SQLITE_STORE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "c.db")
	}
	_, statErr := os.Stat(path)
	s, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if statErr != nil {
		n := 30000
		if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v >= 100 {
			n = v
		}
		storetest.ApplyInBatches(b, s, storetest.History(b, n, 42), 2000)
	}
	kind := catalogstore.Condition{Key: "kind", Values: []string{"component"}}
	all, err := s.Facets(ctx, []string{"spec.owner"}, catalogstore.Filter{{kind}})
	if err != nil {
		b.Fatal(err)
	}
	owners := all["spec.owner"]
	if len(owners) == 0 {
		b.Fatal("no owners")
	}
	facets := []string{"spec.type", "spec.lifecycle", "metadata.tags"}
	byOwner := func(rng *rand.Rand) catalogstore.Filter {
		return catalogstore.Filter{{kind, {Key: "spec.owner", Values: []string{owners[rng.IntN(len(owners))].Value}}}}
	}
	cases := []struct {
		name string
		// fresh runs the request right after a write, so no cached answer
		// serves it.
		fresh bool
		f     func(rng *rand.Rand) catalogstore.Filter
		// facets, when set, are the facets counted instead.
		facets []string
	}{
		{"facets", false, func(*rand.Rand) catalogstore.Filter { return catalogstore.Filter{{kind}} }, nil},
		{"facetsOwner", false, byOwner, nil},
		{"facetsOwnerAfterWrite", true, byOwner, nil},
		// The kind facet of every entity (the catalog page's kind picker)
		// after a write, which the lagging cache answers (it counts more
		// matches than it recomputes on a request), and the kinds and names
		// of one owner's components, recomputed.
		{"facetKindAfterWrite", true, func(*rand.Rand) catalogstore.Filter { return nil }, []string{"kind"}},
		{"facetKindNameOwnerAfterWrite", true, byOwner, []string{"kind", "metadata.name"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, b.N)
			var cpu storetest.CPUMeter
			b.ResetTimer()
			cpu.Start()
			for i := 0; i < b.N; i++ {
				if c.fresh {
					b.StopTimer()
					cpu.Stop()
					write(b, s)
					cpu.Start()
					b.StartTimer()
				}
				start := time.Now()
				fs := facets
				if c.facets != nil {
					fs = c.facets
				}
				if _, err := s.Facets(ctx, fs, c.f(rng)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			cpu.Stop()
			b.StopTimer()
			slices.Sort(lat)
			at := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(at(0.50), "p50-ms")
			b.ReportMetric(at(0.95), "p95-ms")
			b.ReportMetric(float64(cpu.Spent().Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// write applies an event the read model does not fold after its last
// position: a new generation begins, as after any write, and nothing else
// changes.
func write(b *testing.B, s *sqlitecatalog.Store) {
	b.Helper()
	ev, err := event.New("backlot.bench.noop.v1", "bench:default/noop", map[string]any{}, event.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	pos, err := s.Positions(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ev.Position = pos[0] + 1
	if err := s.Apply(context.Background(), []event.Envelope{ev}); err != nil {
		b.Fatal(err)
	}
}
