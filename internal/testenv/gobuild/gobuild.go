package gobuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Once builds one Go package into a temporary folder, at most once. The
// zero Once is not usable: give Package and Prefix. Call Remove from the
// package's TestMain after m.Run.
type Once struct {
	// Package is what go build builds: an import path, or "." for the
	// test's own package.
	Package string
	// Prefix names the temporary folder the binary goes in.
	Prefix string

	once sync.Once
	dir  string
	bin  string
	err  error
}

// Path builds the package the first time it is called and returns the
// binary's path; a failed build fails t, at every call.
func (o *Once) Path(t testing.TB) string {
	t.Helper()
	o.once.Do(func() {
		if o.dir, o.err = os.MkdirTemp("", o.Prefix); o.err != nil {
			return
		}
		o.bin = filepath.Join(o.dir, "backlot")
		cmd := exec.Command("go", "build", "-o", o.bin, o.Package)
		cmd.Stderr = os.Stderr
		o.err = cmd.Run()
	})
	if o.err != nil {
		t.Fatalf("go build %s: %v", o.Package, o.err)
	}
	return o.bin
}

// Remove deletes the binary's folder, when one was made.
func (o *Once) Remove() {
	if o.dir != "" {
		os.RemoveAll(o.dir)
	}
}
