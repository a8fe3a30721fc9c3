package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// rssSample is one reading of a process's memory from /proc/PID/status, in KiB.
type rssSample struct {
	// RSS is VmRSS, the resident set; Anon its anonymous part (the Go heap,
	// SQLite's page caches, stacks); File its file-backed part (mostly the
	// binary's code and read-only data); HWM the kernel's peak of VmRSS.
	RSS, Anon, File, HWM int64
}

// rssPeaks keeps the peaks of a process's memory, sampled: the resident set
// at its highest with its split into anonymous and file-backed pages at that
// moment, and each part's own peak.
type rssPeaks struct {
	mu sync.Mutex
	// AtPeak is the sample whose RSS was highest.
	AtPeak rssSample
	// Anon and File are the highest anonymous and file-backed sizes seen.
	Anon, File int64
	// HWM is the kernel's peak of the resident set (between samples too).
	HWM int64
}

func (p *rssPeaks) add(s rssSample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.RSS > p.AtPeak.RSS {
		p.AtPeak = s
	}
	p.Anon = max(p.Anon, s.Anon)
	p.File = max(p.File, s.File)
	p.HWM = max(p.HWM, s.HWM)
}

// snapshot returns a copy of the peaks.
func (p *rssPeaks) snapshot() rssPeaks {
	p.mu.Lock()
	defer p.mu.Unlock()
	return rssPeaks{AtPeak: p.AtPeak, Anon: p.Anon, File: p.File, HWM: p.HWM}
}

// readRSS reads VmRSS, RssAnon, RssFile (with RssShmem) and VmHWM of
// /proc/pid/status in KiB.
func readRSS(pid int) (rssSample, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssSample{}, false
	}
	defer f.Close()
	var s rssSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			s.RSS = v
		case "RssAnon":
			s.Anon = v
		case "RssFile", "RssShmem":
			s.File += v
		case "VmHWM":
			s.HWM = v
		}
	}
	return s, s.RSS > 0
}
