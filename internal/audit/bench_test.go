package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/bench/gen"
)

// benchEvents is 20,000 generated components written, then all edited: the
// events come back from JSON as the audit API's client reads them.
func benchEvents(b *testing.B) []event.Envelope {
	b.Helper()
	var evs []event.Envelope
	for _, version := range []int{1, 2} {
		ups, err := gen.ComponentUpserts(1, 20000, version)
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, ups...)
	}
	for i := range evs {
		raw, _ := json.Marshal(evs[i])
		var back event.Envelope
		if err := json.Unmarshal(raw, &back); err != nil {
			b.Fatal(err)
		}
		evs[i] = back
	}
	return evs
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerEvent reports wall and CPU µs per event.
func reportPerEvent(b *testing.B, events int, cpu time.Duration) {
	n := float64(b.N) * float64(events)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/n, "µs/event")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReplayFold measures Apply: choosing each entity's latest version.
func BenchmarkReplayFold(b *testing.B) {
	evs := benchEvents(b)
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		r := audit.NewReplay()
		for start := 0; start < len(evs); start += 1000 {
			if err := r.Apply(evs[start:min(start+1000, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPerEvent(b, len(evs), cpuTime()-cpu)
}

// BenchmarkReplayEntities measures Entities: decoding the versions left and
// rendering them as the read model would, per event of the log.
func BenchmarkReplayEntities(b *testing.B) {
	evs := benchEvents(b)
	r := audit.NewReplay()
	if err := r.Apply(evs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := r.Entities(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	reportPerEvent(b, len(evs), cpuTime()-cpu)
}

// BenchmarkReplayWriteYAML measures WriteYAML, files included, per event of
// the log.
func BenchmarkReplayWriteYAML(b *testing.B) {
	evs := benchEvents(b)
	r := audit.NewReplay()
	if err := r.Apply(evs); err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	b.ResetTimer()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		// A fresh folder each time, as `audit replay --out` usually is:
		// rewriting files that exist costs the file system more.
		i++
		if _, err := r.WriteYAML(context.Background(), filepath.Join(root, strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	reportPerEvent(b, len(evs), cpuTime()-cpu)
}

// BenchmarkReplayWriteYAMLUnchanged measures WriteYAML into a folder that
// already holds the same files (each is read and compared, none written),
// per event of the log: the rendering without the kernel's file creation.
func BenchmarkReplayWriteYAMLUnchanged(b *testing.B) {
	evs := benchEvents(b)
	r := audit.NewReplay()
	if err := r.Apply(evs); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := r.WriteYAML(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		st, err := r.WriteYAMLStats(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		if st.Unchanged != st.Files {
			b.Fatalf("rewrote %d of %d files", st.Files-st.Unchanged, st.Files)
		}
	}
	reportPerEvent(b, len(evs), cpuTime()-cpu)
}

// BenchmarkReplayWriteTar measures WriteTar into a file, per event of the
// log: WriteYAML's rendering and bytes, without a file per entity.
func BenchmarkReplayWriteTar(b *testing.B) {
	evs := benchEvents(b)
	r := audit.NewReplay()
	if err := r.Apply(evs); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "catalog.tar")
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.WriteTar(context.Background(), f, time.Now()); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportPerEvent(b, len(evs), cpuTime()-cpu)
}
