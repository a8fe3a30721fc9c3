package sqlitecatalog_test

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// BenchmarkApply measures folding upserts of realistic components into a fresh
// SQLite read model in batches, as a replay does; it reports events/s.
func BenchmarkApply(b *testing.B) {
	const n, batch = 10000, 2000
	evs := upserts(b, 0, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := sqlitecatalog.Open(filepath.Join(b.TempDir(), "c.db"), sqlitecatalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for j := 0; j < n; j += batch {
			if err := s.Apply(context.Background(), evs[j:min(j+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
