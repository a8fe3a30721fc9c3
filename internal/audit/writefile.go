package audit

import (
	"os"
	"syscall"
)

// writeFile creates or truncates the file at path and writes b to it, as
// os.WriteFile does, with three system calls: without an *os.File, whose
// making tries to add a regular file to the runtime's poller.
func writeFile(path string, b []byte) error {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		b = b[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

// readFile reads the file at path into buf, up to len(buf) bytes, and
// reports how many it read; ok is false when the file cannot be opened or
// read. Like writeFile, it makes no *os.File.
func readFile(path string, buf []byte) (n int, ok bool) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, false
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, true
}
