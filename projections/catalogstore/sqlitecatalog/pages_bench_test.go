package sqlitecatalog_test

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkQueryPages reads a catalog of 20,000 components a page of 1,000
// at a time, in creation order, with their relations (dev's page cache of 8
// MiB). cpu-µs/event is the CPU time per entity read.
func BenchmarkQueryPages(b *testing.B) {
	benchmarkPages(b, catalogstore.PageQuery{Limit: 1000})
}

// BenchmarkQueryKeyPages reads a catalog of 20,000 components a page of
// 2,000 at a time, in key order, with their relations: what a full badge
// evaluation reads (its pages are in key order, whose row ids are spread
// over the whole catalog). cpu-µs/event is the CPU time per entity read.
func BenchmarkQueryKeyPages(b *testing.B) {
	benchmarkPages(b, catalogstore.PageQuery{Limit: 2000, Order: []catalogstore.Order{{Field: catalogstore.KeyOrder}}})
}

// benchmarkPages reads a catalog of 20,000 components folded in batches of
// 2,000 a page at a time with q, and reports the CPU time per entity read.
func benchmarkPages(b *testing.B, first catalogstore.PageQuery) {
	const n, batch = 20000, 2000
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{CacheKiB: 8192})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	evs := upserts(b, 0, n)
	for j := 0; j < n; j += batch {
		if err := s.Apply(ctx, evs[j:min(j+batch, n)]); err != nil {
			b.Fatal(err)
		}
	}
	var cpu storetest.CPUMeter
	read := 0
	for b.Loop() {
		cpu.Start()
		q := first
		for {
			page, err := s.Query(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			read += len(page.Items)
			if len(page.Items) > 0 && len(page.Items[0].Relations) == 0 {
				b.Fatal("a component without relations")
			}
			if !page.HasNext {
				break
			}
			q.After = page.Last
		}
		cpu.Stop()
	}
	if read != n*b.N {
		b.Fatalf("read %d entities, want %d", read, n*b.N)
	}
	cpu.Report(b, read)
}
