package bench

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestProcCPUReadsAProcessesTime checks the /proc reading the replay bench
// uses for PostgreSQL's backends against this process's own rusage.
func TestProcCPUReadsAProcessesTime(t *testing.T) {
	for start := selfCPU(); selfCPU()-start < 100_000; {
	}
	got, self := procCPU(os.Getpid()), selfCPU()
	if got < 80_000 {
		t.Fatalf("procCPU of this process after 100ms of CPU = %dµs", got)
	}
	// /proc counts in ticks of 10ms; rusage finer.
	if d := self - got; d < -20_000 || d > 100_000 {
		t.Errorf("procCPU %dµs and rusage %dµs disagree", got, self)
	}
	if v := procCPU(1 << 30); v != 0 {
		t.Errorf("procCPU of no process = %d, want 0", v)
	}
}

// TestReplayResultText names each run's projectors and rate.
func TestReplayResultText(t *testing.T) {
	r := &ReplayResult{Entities: 100, Events: 100, Partitions: 12, Runs: []ReplayRun{
		{Projectors: 1, Seconds: 2, EventsPerSec: 50}, {Projectors: 4, Seconds: 1, EventsPerSec: 100}}}
	var b bytes.Buffer
	r.WriteText(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "1 ") || !strings.Contains(lines[3], " 100 ") {
		t.Fatalf("unexpected table:\n%s", b.String())
	}
}

// TestReplayRunPerEvent turns a run's CPU totals into CPU per event, and the
// catalog bench's text shows them beside the replay's rate.
func TestReplayRunPerEvent(t *testing.T) {
	run := ReplayRun{Projectors: 1, Events: 1000, Seconds: 0.5, ProjectorCPUMicros: 40000, PostgresCPUMicros: 75000, BrokerCPUMicros: 2500, Load1: 3}
	run.perEvent()
	if run.EventsPerSec != 2000 || run.ProjectorCPUMicros != 40 || run.PostgresCPUMicros != 75 || run.BrokerCPUMicros != 2.5 {
		t.Fatalf("per event: %+v", run)
	}
	r := &CatalogResult{RebuildPerSecond: run.EventsPerSec, Replay: &run}
	var b bytes.Buffer
	r.WriteText(&b)
	if want := "CPU per event     projector 40.0µs, PostgreSQL 75.0µs, broker 2.5µs (1000 events in 0.5s, load 3.0)"; !strings.Contains(b.String(), want) {
		t.Fatalf("the text lacks %q:\n%s", want, b.String())
	}
}

// TestCatalogProcsCloseTwice: the catalog bench stops its servers before the
// replay, and again (doing nothing) on its way out.
func TestCatalogProcsCloseTwice(t *testing.T) {
	g := newCatalogProcs()
	g.close()
	g.close()
}
