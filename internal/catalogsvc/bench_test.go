package catalogsvc_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// nowWaiter answers every wait at once: the benchmark measures the ingestion
// path (walk, decisions, appends) without the read model's fold.
type nowWaiter struct{}

func (nowWaiter) WaitFor(context.Context, event.Positions) error { return nil }
func (nowWaiter) Applied() event.Positions                       { return event.Positions{} }

// BenchmarkFirstIngestion registers a generated catalog of 20,000 entities
// on an empty log and read model: the first ingestion's walk, decisions and
// appends, as backlot dev makes them at start, without the fold. It reports
// the CPU time and the bytes allocated per entity.
func BenchmarkFirstIngestion(b *testing.B) {
	const n = 20000
	catDir := filepath.Join(b.TempDir(), "catalog")
	sum, err := gen.Generate(catDir, gen.Config{Entities: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	roots, err := ingest.NewRoots([]string{catDir})
	if err != nil {
		b.Fatal(err)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
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
		svc := catalogsvc.New(catalogsvc.Config{Log: event.SinglePartition(log), Store: store, Waiter: nowWaiter{},
			Reader: ingest.NewReader(ingest.Config{Roots: roots}), Logger: quiet})
		b.StartTimer()
		if _, err := svc.EnsureLocation(context.Background(), "user:default/bench", "file", sum.RootFile); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		head, err := log.Head(context.Background())
		if err != nil || head < n {
			b.Fatalf("log head %d after ingesting %d entities: %v", head, n, err)
		}
		store.Close()
		log.Close()
		b.StartTimer()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/entity")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N*n), "B/entity")
}
