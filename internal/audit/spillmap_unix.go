//go:build unix

package audit

import (
	"os"
	"syscall"
)

// mapSpill maps the first size bytes of the spill file f read-only, so its
// bodies are read without a system call and a copy each.
func mapSpill(f *os.File, size int64) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmapSpill undoes mapSpill.
func unmapSpill(b []byte) error { return syscall.Munmap(b) }
