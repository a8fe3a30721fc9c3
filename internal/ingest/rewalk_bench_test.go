package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/internal/ingest"
)

// BenchmarkRewalk measures a refresh's walk of a location whose files are
// all unchanged, as after an edit of one file of a large catalog (the edit's
// own file aside): a root Location file naming 1,000 files of 100
// components each, all remembered from a first walk.
func BenchmarkRewalk(b *testing.B) {
	dir := b.TempDir()
	const files, per = 1000, 100
	var root strings.Builder
	root.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets:\n")
	old := time.Now().Add(-time.Hour)
	for f := range files {
		var doc strings.Builder
		for i := range per {
			doc.WriteString(component(fmt.Sprintf("c-%d-%d", f, i)))
			doc.WriteString("---\n")
		}
		name := fmt.Sprintf("f%04d.yaml", f)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		// Settled files: their stamps tell they are unchanged.
		if err := os.Chtimes(p, old, old); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&root, "    - ./%s\n", name)
	}
	rootPath := filepath.Join(dir, "all.yaml")
	if err := os.WriteFile(rootPath, []byte(root.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Chtimes(rootPath, old, old); err != nil {
		b.Fatal(err)
	}
	roots, err := ingest.NewRoots([]string{dir})
	if err != nil {
		b.Fatal(err)
	}
	r := ingest.NewReader(ingest.Config{Roots: roots})
	ctx := context.Background()
	first := &collect{}
	commit, err := r.Walk(ctx, ingest.TypeFile, rootPath, first, true)
	if err != nil {
		b.Fatal(err)
	}
	if len(first.refs) != files*per+1 {
		b.Fatalf("the first walk yielded %d entities, want %d", len(first.refs), files*per+1)
	}
	commit()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	n := 0
	for b.Loop() {
		n++
		c := &collect{}
		commit, err := r.Walk(ctx, ingest.TypeFile, rootPath, c, true)
		if err != nil {
			b.Fatal(err)
		}
		if len(c.kept) != files+1 {
			b.Fatalf("the walk kept %d files, want %d", len(c.kept), files+1)
		}
		commit()
	}
	// On a shared machine the wall time per walk is mostly waiting for a
	// core: the process's CPU time per walk is the measure to compare.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1e3/float64(n), "cpu-ms/op")
}

// cpuTime returns the CPU time (user and system) the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
