package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// ProcessUsage is what one process of the catalog bench used: its resident
// memory, sampled from /proc/PID/status every 100 ms, and its CPU time (user
// and system) from /proc/PID/stat.
type ProcessUsage struct {
	// Roles are the serve roles the process ran ("api", "projector,ingester";
	// "dev" for backlot dev, "kfake" for the broker helper).
	Roles string `json:"roles"`
	// PeakRSSMB is the resident set's peak (the kernel's VmHWM, or the highest
	// sample); PeakAnonMB and PeakFileMB split the highest sample into its
	// anonymous pages (Go's heap, caches, stacks) and its file-backed ones (the
	// binary's code, mostly).
	PeakRSSMB  float64 `json:"peakRssMB"`
	PeakAnonMB float64 `json:"peakRssAnonMB"`
	PeakFileMB float64 `json:"peakRssFileMB"`
	// IngestRSSMB and IngestAnonMB are the highest sample until every entity
	// was queryable, and its anonymous part.
	IngestRSSMB  float64 `json:"ingestPeakRssMB"`
	IngestAnonMB float64 `json:"ingestPeakRssAnonMB"`
	// EndRSSMB, EndAnonMB and EndFileMB are the last sample, after the latency
	// and edit phases.
	EndRSSMB  float64 `json:"endRssMB"`
	EndAnonMB float64 `json:"endRssAnonMB"`
	EndFileMB float64 `json:"endRssFileMB"`
	// IngestCPUSeconds is the CPU time from the process's start until every
	// entity was queryable; CPUSeconds until the end of the edit phase (before
	// the replay, which runs in the bench's own process).
	IngestCPUSeconds float64 `json:"ingestCpuSeconds"`
	CPUSeconds       float64 `json:"cpuSeconds"`
}

// catalogProc is one process of the catalog bench, sampled by catalogProcs.
type catalogProc struct {
	name, roles string
	cmd         *exec.Cmd
	// done is closed when a process this bench started has ended; nil for
	// a process started by someone else (the broker helper).
	done chan struct{}

	peaks     rssPeaks  // the whole run's
	ingest    rssPeaks  // a copy of peaks once every entity was queryable
	last      rssSample // the latest sample
	ingestCPU int64     // µs, once every entity was queryable
	endCPU    int64     // µs, at the end
}

// catalogProcs are the server processes of one catalog bench run (backlot
// dev, one backlot serve, or one serve process per role) and the broker
// helper, sampled together every 100 ms so that the server processes' sum
// has a peak of its own.
type catalogProcs struct {
	mu     sync.Mutex
	list   []*catalogProc // the server processes, in start order
	broker *catalogProc
	// total is the highest sum of the server processes' samples taken at one
	// moment; totalIngest a copy of it once every entity was queryable.
	total, totalIngest rssSample

	stop    chan struct{}
	wg      sync.WaitGroup
	closing sync.Once
}

func newCatalogProcs() *catalogProcs {
	g := &catalogProcs{stop: make(chan struct{})}
	g.wg.Go(g.sampleLoop)
	return g
}

// start starts bin with args as the server process name, running roles, its
// output going to out.
func (g *catalogProcs) start(bin, name, roles string, args []string, out io.Writer) (*catalogProc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s process: %w", name, err)
	}
	p := &catalogProc{name: name, roles: roles, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	g.mu.Lock()
	g.list = append(g.list, p)
	g.mu.Unlock()
	g.sampleOnce()
	return p, nil
}

// watchBroker samples the broker helper's memory and CPU too (it is not a
// server: it is left out of the servers' sums and not stopped here).
func (g *catalogProcs) watchBroker(b *brokerProcess) {
	if b == nil || b.cmd == nil || b.cmd.Process == nil {
		return
	}
	g.mu.Lock()
	g.broker = &catalogProc{name: "kafkaBroker", roles: "kfake", cmd: b.cmd}
	g.mu.Unlock()
}

func (g *catalogProcs) sampleLoop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.sampleOnce()
		}
	}
}

// sampleOnce reads every process's memory once.
func (g *catalogProcs) sampleOnce() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var sum rssSample
	for _, p := range g.list {
		if s, ok := readRSS(p.cmd.Process.Pid); ok {
			p.peaks.add(s)
			p.last = s
			sum.RSS, sum.Anon, sum.File = sum.RSS+s.RSS, sum.Anon+s.Anon, sum.File+s.File
		}
	}
	if sum.RSS > g.total.RSS {
		g.total = sum
	}
	if p := g.broker; p != nil {
		if s, ok := readRSS(p.cmd.Process.Pid); ok {
			p.peaks.add(s)
			p.last = s
		}
	}
}

// all answers the server processes and the broker, when there is one.
func (g *catalogProcs) all() []*catalogProc {
	out := append([]*catalogProc{}, g.list...)
	if g.broker != nil {
		out = append(out, g.broker)
	}
	return out
}

// api answers the process that serves the API: the one named "api", else
// the first started (dev, or serve with every role).
func (g *catalogProcs) api() *catalogProc {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.list {
		if p.name == "api" {
			return p
		}
	}
	return g.list[0]
}

// ended answers an error naming a server process that has ended by itself.
func (g *catalogProcs) ended() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.list {
		select {
		case <-p.done:
			return fmt.Errorf("the %s process ended: %s", p.name, p.cmd.ProcessState)
		default:
		}
	}
	return nil
}

// serverCPU answers the server processes' CPU time in µs.
func (g *catalogProcs) serverCPU() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var s int64
	for _, p := range g.list {
		s += procCPU(p.cmd.Process.Pid)
	}
	return s
}

// markIngested records every process's peaks and CPU time so far.
func (g *catalogProcs) markIngested() {
	g.sampleOnce()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.all() {
		p.ingest = p.peaks.snapshot()
		p.ingestCPU = procCPU(p.cmd.Process.Pid)
	}
	g.totalIngest = g.total
}

// markEnd records every process's CPU time and last sample at the end.
func (g *catalogProcs) markEnd() {
	g.sampleOnce()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.all() {
		p.endCPU = procCPU(p.cmd.Process.Pid)
	}
}

// usage answers what each process used, by name.
func (g *catalogProcs) usage() map[string]ProcessUsage {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]ProcessUsage{}
	for _, p := range g.all() {
		pk := p.peaks.snapshot()
		out[p.name] = ProcessUsage{
			Roles:     p.roles,
			PeakRSSMB: mb(max(pk.HWM, pk.AtPeak.RSS)), PeakAnonMB: mb(pk.AtPeak.Anon), PeakFileMB: mb(pk.AtPeak.File),
			IngestRSSMB: mb(p.ingest.AtPeak.RSS), IngestAnonMB: mb(p.ingest.AtPeak.Anon),
			EndRSSMB: mb(p.last.RSS), EndAnonMB: mb(p.last.Anon), EndFileMB: mb(p.last.File),
			IngestCPUSeconds: float64(p.ingestCPU) / 1e6, CPUSeconds: float64(p.endCPU) / 1e6,
		}
	}
	return out
}

// totals answers the server processes' memory peak (one process: its own,
// the kernel's VmHWM included; more: the highest sum of samples taken at one
// moment), its split, and the same until every entity was queryable.
func (g *catalogProcs) totals() (peak, ingest rssSample) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.list) == 1 {
		pk := g.list[0].peaks.snapshot()
		peak = pk.AtPeak
		peak.RSS = max(pk.HWM, pk.AtPeak.RSS)
		return peak, g.list[0].ingest.AtPeak
	}
	return g.total, g.totalIngest
}

// close stops the sampling and the server processes, the last started
// first: an interrupt, then a kill after 30 s. Later calls do nothing.
func (g *catalogProcs) close() { g.closing.Do(g.stopAll) }

func (g *catalogProcs) stopAll() {
	close(g.stop)
	g.wg.Wait()
	g.mu.Lock()
	list := append([]*catalogProc{}, g.list...)
	g.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		p := list[i]
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
