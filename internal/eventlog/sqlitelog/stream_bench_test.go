package sqlitelog

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// BenchmarkStream streams a whole log as audit replay --data does (lean, the
// data of the types the catalog does not fold left out, batches reused), the
// callback keeping every event's data as a fold keeps the bodies it needs:
// BACKLOT_STREAM_BENCH_LOG names the events.db to read (a dev data folder's),
// else a log of 20,000 events of about 1 KB is made. It reports events/s and
// CPU µs an event; one op is one whole stream.
func BenchmarkStream(b *testing.B) {
	path := os.Getenv("BACKLOT_STREAM_BENCH_LOG")
	if path == "" {
		path = b.TempDir() + "/events.db"
		l, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 20_000; i += 1000 {
			if _, err := l.Append(b.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 1000, benchDataSize)); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	skip := []string{string(event.TypeFactsReported), string(event.TypeFactSourceDeclared),
		string(event.TypeBadgeAwarded), string(event.TypeBadgeRevoked), string(event.TypeCheckChanged),
		string(event.TypeTaskStarted), string(event.TypeTaskFinished),
		string(event.TypeMigrationChanged), string(event.TypeMigrationTargetChanged),
		string(event.TypePermissionDenied)}
	cpu := streamBenchCPU()
	events := 0
	for b.Loop() {
		var kept [][]byte
		err := Stream(b.Context(), path, StreamOptions{Lean: true, SkipData: skip, Reuse: true}, func(evs []event.Envelope) error {
			for i := range evs {
				if evs[i].Data != nil {
					kept = append(kept, evs[i].Data)
				}
			}
			events += len(evs)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((streamBenchCPU()-cpu).Microseconds())/float64(events), "cpu-µs/event")
}

// streamBenchCPU is the process's CPU time so far, user and system.
func streamBenchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
