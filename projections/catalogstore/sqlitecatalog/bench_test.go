package sqlitecatalog_test

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkApply measures folding upserts of realistic components into a fresh
// SQLite read model in batches, as a replay does; it reports events/s.
func BenchmarkApply(b *testing.B) {
	const n, batch = 10000, 2000
	evs := upserts(b, 0, n)
	var cpu storetest.CPUMeter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu.Start()
		for j := 0; j < n; j += batch {
			if err := s.Apply(context.Background(), evs[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu.Stop()
		s.Close()
		b.StartTimer()
	}
	cpu.Report(b, n*b.N)
}

// BenchmarkReplay measures a rebuild's replay into a fresh SQLite read model:
// the store in replay mode (BeginReplay), the events folded in batches of
// 5,000 as internal/rebuild reads them, and the indexes built at the end
// (EndBulk); it reports events/s.
func BenchmarkReplay(b *testing.B) {
	benchmarkBulk(b, 5000, (*sqlitecatalog.Store).BeginReplay)
}

// BenchmarkBulkLoad measures dev's first load of its catalogs: a fresh
// SQLite read model in a live bulk load (BeginBulk), the events folded in
// dev's batches of 500 as the projector reads them while the ingester
// appends, and the dropped indexes built at the end (EndBulk); it reports
// events/s.
func BenchmarkBulkLoad(b *testing.B) {
	benchmarkBulk(b, 500, (*sqlitecatalog.Store).BeginBulk)
}

// benchmarkBulk folds 20,000 upserts into a fresh store opened with begin,
// in batches of batch, and builds its indexes at the end (EndBulk); it
// reports events/s and CPU per event.
func benchmarkBulk(b *testing.B, batch int, begin func(*sqlitecatalog.Store, context.Context) error) {
	const n = 20000
	evs := upserts(b, 0, n)
	ctx := context.Background()
	var cpu storetest.CPUMeter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu.Start()
		if err := begin(s, ctx); err != nil {
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
		b.StopTimer()
		cpu.Stop()
		s.Close()
		b.StartTimer()
	}
	cpu.Report(b, n*b.N)
}
