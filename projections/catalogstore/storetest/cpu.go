package storetest

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUMeter measures the CPU time a benchmark spends, which other processes
// on a shared machine disturb far less than its wall time.
type CPUMeter struct {
	start time.Duration
	spent time.Duration
}

// Start begins (or resumes) measuring.
func (m *CPUMeter) Start() { m.start = processCPU() }

// Stop pauses measuring, adding the CPU time since Start.
func (m *CPUMeter) Stop() { m.spent += processCPU() - m.start }

// Report reports (after the last Stop), beside events/s of wall time, the CPU
// time per event in microseconds (cpu-µs/event) over the events folded in
// all of b's iterations.
func (m *CPUMeter) Report(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(m.spent.Microseconds())/float64(events), "cpu-µs/event")
}

// Spent returns the CPU time measured so far (after the last Stop).
func (m *CPUMeter) Spent() time.Duration { return m.spent }
