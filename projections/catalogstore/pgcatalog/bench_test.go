package pgcatalog_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkApply measures folding upserts of realistic components into a fresh
// PostgreSQL read model in batches, as a replay does; it reports events/s.
func BenchmarkApply(b *testing.B) {
	const n, batch = 10000, 2000
	evs := storetest.Components(b, 0, n)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		b.StartTimer()
		for j := 0; j < n; j += batch {
			if err := s.Apply(context.Background(), evs[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyBulk measures BenchmarkApply's fold in bulk mode, as the
// projector runs a backlog of a log of one partition: BeginBulk, the batches,
// and EndBulk's rebuild of the indexes; it reports events/s.
func BenchmarkApplyBulk(b *testing.B) {
	const n, batch = 10000, 2000
	evs := storetest.Components(b, 0, n)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		b.StartTimer()
		if err := s.BeginBulk(ctx); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < n; j += batch {
			if err := s.Apply(ctx, evs[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.EndBulk(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyPartitions measures six appliers folding six partitions of
// the same components into one read model at once, as six projector
// processes do; it reports events/s.
func BenchmarkApplyPartitions(b *testing.B) {
	const n, batch = 10000, 500
	parts := storetest.ByPartition(storetest.Partition(storetest.Components(b, 0, n), 6))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		b.StartTimer()
		var wg sync.WaitGroup
		for _, evs := range parts {
			wg.Go(func() {
				for j := 0; j < len(evs); j += batch {
					if err := s.Apply(context.Background(), evs[j:min(j+batch, len(evs))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// large is the read model BenchmarkQueryLarge reads: a generated catalog of
// BACKLOT_BENCH_ENTITIES entities (default 100,000), loaded once per run; or,
// when BACKLOT_BENCH_STORE_URL names a database holding a read model already,
// that one as it is.
var large struct {
	once   sync.Once
	store  *pgcatalog.Store
	owners []string
	err    error
}

func largeStore(b *testing.B) (*pgcatalog.Store, []string) {
	b.Helper()
	large.once.Do(func() {
		if url := os.Getenv("BACKLOT_BENCH_STORE_URL"); url != "" {
			s, err := pgcatalog.Open(context.Background(), url, pgcatalog.Options{})
			if err != nil {
				large.err = err
				return
			}
			b.Cleanup(func() { s.Close() })
			large.store = s
			large.owners, large.err = ownersOf(s)
			return
		}
		n := 100000
		if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v >= 100 {
			n = v
		}
		start := time.Now()
		evs := storetest.History(b, n, 42)
		made := time.Since(start)
		s := openStore(b)
		start = time.Now()
		storetest.ApplyInBatches(b, s, evs, 2000)
		applied := time.Since(start)
		if _, err := s.Pool().Exec(context.Background(), `VACUUM ANALYZE`); err != nil {
			large.err = err
			return
		}
		b.Logf("%d entities: %d events made in %v, applied in %v (%.0f events/s)", n, len(evs), made.Round(time.Millisecond), applied.Round(time.Millisecond), float64(len(evs))/applied.Seconds())
		large.owners, large.err = ownersOf(s)
		large.store = s
	})
	if large.err != nil {
		b.Fatal(large.err)
	}
	if large.store == nil {
		b.Fatal("the large read model failed to load")
	}
	return large.store, large.owners
}

// ownersOf lists the owners of components, the values the varied queries pick from.
func ownersOf(s *pgcatalog.Store) ([]string, error) {
	f, err := s.Facets(context.Background(), []string{"spec.owner"}, catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, fc := range f["spec.owner"] {
		out = append(out, fc.Value)
	}
	return out, nil
}

// BenchmarkQueryLarge measures the API's typical reads on a large catalog (the
// queries of `backlot bench catalog`); run it with -bench, it loads 100,000
// entities first. Each sub-benchmark reports its p50 and p95 latency.
func BenchmarkQueryLarge(b *testing.B) {
	ctx := context.Background()
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	byName := []catalogstore.Order{{Field: "metadata.name"}}
	facets := []string{"spec.type", "spec.lifecycle", "metadata.tags"}
	cases := []struct {
		name string
		// fresh runs the query right after a write, so no cached count or
		// facet answers it.
		fresh bool
		run   func(s *pgcatalog.Store, owner string) error
	}{
		{"list", false, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 50, Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}}})
			return err
		}},
		{"byQuery", false, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Order: byName, Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.lifecycle", "production")}}})
			return err
		}},
		{"byQueryOwner", false, func(s *pgcatalog.Store, owner string) error {
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Order: byName, Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.owner", owner)}}})
			return err
		}},
		{"byRelation", false, func(s *pgcatalog.Store, owner string) error {
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Filter: catalogstore.Filter{{cond("relations.ownedBy", "group:default/"+owner)}}})
			return err
		}},
		{"facets", false, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Facets(ctx, facets, catalogstore.Filter{{cond("kind", "component")}})
			return err
		}},
		{"facetsAfterWrite", true, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Facets(ctx, facets, catalogstore.Filter{{cond("kind", "component")}})
			return err
		}},
		{"byQueryAfterWrite", true, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Order: byName, Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.lifecycle", "production")}}})
			return err
		}},
		{"facetsOwner", false, func(s *pgcatalog.Store, owner string) error {
			_, err := s.Facets(ctx, facets, catalogstore.Filter{{cond("kind", "component"), cond("spec.owner", owner)}})
			return err
		}},
		{"facetsAll", false, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Facets(ctx, []string{"kind", "spec.type", "spec.owner"}, nil)
			return err
		}},
		// The kind facet of every entity (the catalog page's kind picker)
		// after a write, which the lagging cache may answer, and the kinds
		// and names of one owner's components, recomputed.
		{"facetKindAfterWrite", true, func(s *pgcatalog.Store, _ string) error {
			_, err := s.Facets(ctx, []string{"kind"}, nil)
			return err
		}},
		{"facetKindNameOwnerAfterWrite", true, func(s *pgcatalog.Store, owner string) error {
			_, err := s.Facets(ctx, []string{"kind", "metadata.name"}, catalogstore.Filter{{cond("kind", "component"), cond("spec.owner", owner)}})
			return err
		}},
	}
	// Loaded with the parent benchmark, whose cleanups run after every
	// sub-benchmark's runs.
	s, owners := largeStore(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if c.fresh {
					b.StopTimer()
					write(b, s)
					b.StartTimer()
				}
				start := time.Now()
				if err := c.run(s, owners[rng.IntN(len(owners))]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

// write applies an event the read model does not fold to the last partition:
// its position moves, as after any write, and nothing else changes.
func write(b *testing.B, s *pgcatalog.Store) {
	b.Helper()
	ev, err := event.New("backlot.bench.noop.v1", "bench:default/noop", map[string]any{}, event.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	pos, err := s.Positions(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ev.Partition = pgcatalog.MaxPartitions - 1
	ev.Position = pos[ev.Partition] + 1
	if err := s.Apply(context.Background(), []event.Envelope{ev}); err != nil {
		b.Fatal(err)
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sorted := append([]time.Duration(nil), lat...)
	slices.Sort(sorted)
	at := func(p float64) float64 {
		return float64(sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
