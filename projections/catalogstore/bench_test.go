package catalogstore_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// BenchmarkFold measures the fold alone, without a database: decoding batches
// of upserts of realistic components, folding them over an empty read model
// and sorting their rows, as an adapter does before it writes; it reports
// events/s.
func BenchmarkFold(b *testing.B) {
	const n, batch = 10000, 2000
	evs := storetest.Components(b, 0, n)
	var cpu storetest.CPUMeter
	b.ResetTimer()
	cpu.Start()
	for range b.N {
		for j := 0; j < n; j += batch {
			bt, err := catalogstore.DecodeBatch(evs[j:min(j+batch, n)], nil)
			if err != nil {
				b.Fatal(err)
			}
			ch, err := bt.Fold(catalogstore.State{}, eidOf)
			if err != nil {
				b.Fatal(err)
			}
			ch.SortRows(true, true)
		}
	}
	cpu.Stop()
	cpu.Report(b, n*b.N)
}

// BenchmarkFoldUnsorted is BenchmarkFold without the sort of the rows, as a
// replay folds in bulk (its indexes built at the end); it reports the CPU
// time an event takes, on every core, garbage collection included.
func BenchmarkFoldUnsorted(b *testing.B) {
	const n, batch = 10000, 2000
	evs := storetest.Components(b, 0, n)
	var cpu storetest.CPUMeter
	b.ReportAllocs()
	b.ResetTimer()
	cpu.Start()
	for range b.N {
		for j := 0; j < n; j += batch {
			bt, err := catalogstore.DecodeBatch(evs[j:min(j+batch, n)], nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bt.Fold(catalogstore.State{}, eidOf); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu.Stop()
	cpu.Report(b, n*b.N)
}
