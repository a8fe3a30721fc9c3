package audit_test

import (
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// BenchmarkEmbeddedVerify verifies a log of 20,000 generated events and its
// history: the chain, the history's digests and a re-fold compared version
// by version. One op is one verification; it reports CPU µs per event.
func BenchmarkEmbeddedVerify(b *testing.B) {
	const n = 20_000
	dir := b.TempDir()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	evs := histtest.Generate(b, 7, n)
	for i := range evs {
		evs[i].Position = 0
	}
	if _, err := log.Append(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	for pos := int64(0); ; {
		batch, err := log.Read(b.Context(), pos, 2000)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		if err := hist.Apply(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		pos = batch[len(batch)-1].Position
	}
	a := audit.Embedded{Log: log, History: hist}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		rep, err := a.Verify(b.Context(), nil, nil)
		if err != nil || !rep.OK() || rep.Events != n {
			b.Fatalf("verify: %+v, %v", rep, err)
		}
	}
	reportPerEvent(b, n, cpuTime()-cpu)
}
