package codepages

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
)

// Release drops the process's mappings of its binary's code and read-only
// data (package doc), and returns what it dropped. It drops nothing while the
// process is traced (a debugger may hold breakpoints in the code). Other
// goroutines may run meanwhile: a page one of them needs is mapped again
// when it touches it. An error leaves the mappings not yet dropped as they
// were.
func Release() (Released, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Released{}, fmt.Errorf("codepages: %w", err)
	}
	if traced(status) {
		return Released{Skipped: "traced"}, nil
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return Released{}, fmt.Errorf("codepages: %w", err)
	}
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		return Released{}, fmt.Errorf("codepages: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Released{Skipped: "unsupported"}, nil
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return Released{}, fmt.Errorf("codepages: %w", err)
	}
	var r Released
	for _, m := range readOnlyCode(smaps, exe, st.Ino) {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED); e != 0 {
			return r, fmt.Errorf("codepages: madvise %x-%x: %w", m.start, m.end, e)
		}
		r.Mappings++
		r.ResidentBytes += m.rss
	}
	return r, nil
}

// traced reports whether /proc/self/status names a tracer.
func traced(status []byte) bool {
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("TracerPid:")); ok {
			v = bytes.TrimSpace(v)
			return len(v) > 0 && !bytes.Equal(v, []byte("0"))
		}
	}
	return false
}
