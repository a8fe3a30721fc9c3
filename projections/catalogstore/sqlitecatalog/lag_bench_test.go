package sqlitecatalog_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkRequestAfterWrite measures the requests that carry counts and
// facets when every request follows a write (one new component), as under a
// steady trickle of writes. The catalog holds BACKLOT_BENCH_LAG_N components
// (default 100,000), loaded first. Each sub-benchmark reports the request's
// wall p50 and p95 (the write excluded) and the process's CPU time per write
// and request (cpu-ms/op, background recomputes included).
func BenchmarkRequestAfterWrite(b *testing.B) {
	n := 100000
	if v := os.Getenv("BACKLOT_BENCH_LAG_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("BACKLOT_BENCH_LAG_N=%q: want a positive count", v)
		}
	}
	const extra = 5000
	ctx := context.Background()
	evs := storetest.Components(b, 0, n+extra)
	s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.BeginReplay(ctx); err != nil {
		b.Fatal(err)
	}
	for j := 0; j < n; j += 5000 {
		if err := s.Apply(ctx, evs[j:min(j+5000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.EndBulk(ctx); err != nil {
		b.Fatal(err)
	}
	next := n
	write := func(b *testing.B) {
		if next == len(evs) {
			b.Fatalf("more than %d writes: use -benchtime=Nx with a smaller N", extra)
		}
		if err := s.Apply(ctx, []event.Envelope{evs[next]}); err != nil {
			b.Fatal(err)
		}
		next++
	}
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	byName := []catalogstore.Order{{Field: "metadata.name"}}
	cases := []struct {
		name string
		run  func() error
	}{
		{"byQuery", func() error { // a third of the catalog matches
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Order: byName,
				Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.lifecycle", "production")}}})
			return err
		}},
		{"byQueryOwner", func() error { // one owner's components: 1 in 40
			_, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true, Order: byName,
				Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.owner", "team-7")}}})
			return err
		}},
		{"facets", func() error {
			_, err := s.Facets(ctx, []string{"spec.type", "spec.lifecycle", "metadata.tags"},
				catalogstore.Filter{{cond("kind", "component")}})
			return err
		}},
		{"facetsAll", func() error {
			_, err := s.Facets(ctx, []string{"kind", "spec.type", "spec.owner"}, nil)
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if err := c.run(); err != nil { // the first answer, computed on the request
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			cpu0 := processCPU(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				write(b)
				b.StartTimer()
				start := time.Now()
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			cpu := processCPU(b) - cpu0
			slices.Sort(lat)
			at := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(at(0.50), "p50-ms")
			b.ReportMetric(at(0.95), "p95-ms")
			b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
