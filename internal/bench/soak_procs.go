package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// soakProc is one server process of the soak, with its memory sampled.
type soakProc struct {
	name string
	base string // its API's base URL; empty when it serves no API
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended

	mu  sync.Mutex
	rss []float64 // MB, one per sample
}

// startSoakProc starts backlot with args, its output going to progress.
func startSoakProc(backlot, name, base string, args []string, progress io.Writer) (*soakProc, error) {
	cmd := exec.Command(backlot, args...)
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &soakProc{name: name, base: base, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// sample records the process's present resident memory.
func (p *soakProc) sample() {
	v := readStatusKB(p.cmd.Process.Pid, "VmRSS:")
	p.mu.Lock()
	p.rss = append(p.rss, float64(v)/1024)
	p.mu.Unlock()
}

// memory summarises the samples: first, last, max and one sample per every
// `every` samples.
func (p *soakProc) memory(every int) SoakMemory {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := SoakMemory{Process: p.name}
	if p.cmd != nil {
		m.PID = p.cmd.Process.Pid
	}
	if len(p.rss) == 0 {
		return m
	}
	m.FirstMB, m.LastMB = p.rss[0], p.rss[len(p.rss)-1]
	for i, v := range p.rss {
		m.MaxMB = max(m.MaxMB, v)
		if i%every == 0 {
			m.SeriesMB = append(m.SeriesMB, v)
		}
	}
	return m
}

// stop interrupts the process and waits for it (killing it after 30s).
func (p *soakProc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// ended answers an error naming the process when it has ended by itself.
func (p *soakProc) ended() error {
	select {
	case <-p.done:
		return fmt.Errorf("the %s process ended: %s", p.name, p.cmd.ProcessState)
	default:
		return nil
	}
}

// readStatusKB returns a field (VmRSS:, VmHWM:) of /proc/pid/status in KiB.
func readStatusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}

// loadAverage answers /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAverage() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}
