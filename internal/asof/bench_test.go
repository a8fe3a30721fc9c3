package asof_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// BenchmarkAsOf measures an asOf read of the catalog: N entities (env
// BACKLOT_BENCH_ENTITIES, default 10,000) of ten versions each; "first" is a
// filtered page at an instant not read before (the read model of that instant
// is built), "cached" the same read again.
func BenchmarkAsOf(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	evs := histtest.BenchEvents(b, n, 10)
	start := time.Now()
	histtest.ApplyInBatches(b, hist, evs, 5000)
	b.Logf("history of %d events loaded in %s", len(evs), time.Since(start).Round(time.Millisecond))
	cats, err := asof.New(hist, filepath.Join(dir, "asof"))
	if err != nil {
		b.Fatal(err)
	}
	defer cats.Close()
	ctx := context.Background()
	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "spec.owner", Values: []string{"team-3"}}}}, Limit: 20, CountTotal: true}
	at := int64(len(evs) / 2)
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			at++ // a new instant each time: nothing cached
			r, err := cats.At(ctx, history.AtPositions(event.Positions{0: at}))
			if err != nil {
				b.Fatal(err)
			}
			if p, err := r.Query(ctx, q); err != nil || p.TotalItems == 0 {
				b.Fatalf("%d items, %v", p.TotalItems, err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			r, err := cats.At(ctx, history.AtPositions(event.Positions{0: at}))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
