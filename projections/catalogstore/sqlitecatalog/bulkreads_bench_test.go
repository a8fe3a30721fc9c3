package sqlitecatalog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkReadsDuringABulkLoad reads from 20,000 components folded in a
// live bulk load whose positions span 100,000 (25 buckets of
// relations_target_bulk, as dev's load of 100,000 entities), during the
// load and after EndBulk: 20 entities by key with their relations (what a
// page of the API reads, "bykeys"), and the bench's filtered list, a page of
// 50 services in production with their relations ("list"). cpu-µs/event is
// the CPU time per entity read.
func BenchmarkReadsDuringABulkLoad(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{CacheKiB: 8192})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Components(b, 0, n)
	for i := range evs {
		evs[i].Position = int64(i)*5 + 1
	}
	if err := s.BeginBulk(ctx); err != nil {
		b.Fatal(err)
	}
	for j := 0; j < n; j += 500 {
		if err := s.Apply(ctx, evs[j:min(j+500, n)]); err != nil {
			b.Fatal(err)
		}
	}
	byKeys := func(b *testing.B) {
		var cpu storetest.CPUMeter
		read := 0
		for i := 0; b.Loop(); i++ {
			keys := make([]string, 20)
			for j := range keys {
				keys[j] = fmt.Sprintf("component:default/service-%d", (i*7919+j*1009)%1000)
			}
			cpu.Start()
			views, err := s.ByKeys(ctx, keys)
			cpu.Stop()
			if err != nil {
				b.Fatal(err)
			}
			if len(views) != 20 || views[0] == nil || len(views[0].Relations) == 0 {
				b.Fatalf("read %d entities, the first %+v", len(views), views[0])
			}
			read += len(views)
		}
		cpu.Report(b, read)
	}
	list := func(b *testing.B) {
		filter := catalogstore.Filter{{
			{Key: "kind", Values: []string{"component"}},
			{Key: "spec.type", Values: []string{"service"}},
			{Key: "spec.lifecycle", Values: []string{"production"}},
		}}
		var cpu storetest.CPUMeter
		read := 0
		for b.Loop() {
			cpu.Start()
			page, err := s.Query(ctx, catalogstore.PageQuery{Filter: filter, Limit: 50})
			cpu.Stop()
			if err != nil {
				b.Fatal(err)
			}
			if len(page.Items) != 50 || len(page.Items[0].Relations) == 0 {
				b.Fatalf("read %d entities, the first with %d relations", len(page.Items), len(page.Items[0].Relations))
			}
			read += len(page.Items)
		}
		cpu.Report(b, read)
	}
	b.Run("during/bykeys", byKeys)
	b.Run("during/list", list)
	if err := s.EndBulk(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("after/bykeys", byKeys)
	b.Run("after/list", list)
}
