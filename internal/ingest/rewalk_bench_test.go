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

	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
)

// BenchmarkRewalk measures a refresh's walk of a location whose files are
// all unchanged, as after an edit of one file of a large catalog (the edit's
// own file aside): a root Location file naming 1,000 files of 100
// components each, all remembered from a first walk.
// largeLocation writes a root Location file naming files files of per
// components each, settled an hour ago, walks it once and returns the
// reader that remembers it, the root file and the folder.
func largeLocation(b *testing.B, files, per int) (*ingest.Reader, string, string) {
	dir := b.TempDir()
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
	return r, rootPath, dir
}

func BenchmarkRewalk(b *testing.B) {
	const files, per = 1000, 100
	r, rootPath, _ := largeLocation(b, files, per)
	ctx := context.Background()
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

// storeSink is a collect whose read model holds what the first walk of
// largeLocation wrote (ingest.UnchangedSink), as the catalog's does.
type storeSink struct {
	*collect
	held map[string][]refresh.Known
}

func (s storeSink) Held(m string) []refresh.Known { return s.held[m] }

func (s storeSink) Unchanged(m string, k refresh.Known) bool {
	s.refs = append(s.refs, k.Key)
	return true
}

// BenchmarkRewalkOneFile measures the refresh of one edited file of the
// location of BenchmarkRewalk, as the file watcher asks for it
// (Reader.Changed and Reader.Rewalk), into a sink whose read model holds
// what the first walk found (storeSink): the edited file is read, its
// edited document parsed (its other 99 are taken unchanged), the other
// 1,000 files are kept without a look.
func BenchmarkRewalkOneFile(b *testing.B) {
	const files, per = 1000, 100
	r, rootPath, dir := largeLocation(b, files, per)
	ctx := context.Background()
	edited := filepath.Join(dir, "f0500.yaml")
	content, err := os.ReadFile(edited)
	if err != nil {
		b.Fatal(err)
	}
	managedBy := ingest.TypeFile + ":" + edited
	held := map[string][]refresh.Known{}
	for i := range per {
		held[managedBy] = append(held[managedBy], refresh.Known{Key: fmt.Sprintf("component:default/c-500-%d", i), ManagedBy: managedBy})
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	read0 := r.FilesRead()
	n := 0
	for b.Loop() {
		n++
		// The edit changes the last document's text (a comment in it).
		if err := os.WriteFile(edited, append(content, fmt.Sprintf("# edit %d\n", n)...), 0o644); err != nil {
			b.Fatal(err)
		}
		ch, ok := r.Changed(ingest.TypeFile, rootPath, []string{edited})
		if !ok || !ch.Relevant() {
			b.Fatalf("the edit of one file needs the whole location walked (%v) or is not relevant", ok)
		}
		c := &collect{}
		rw, err := r.Rewalk(ctx, ch, storeSink{collect: c, held: held})
		if err != nil || !rw.OK {
			b.Fatalf("rewalk: %v, ok %v", err, rw.OK)
		}
		if len(c.kept) != files || len(c.refs) != per {
			b.Fatalf("the rewalk kept %d files and yielded %d entities, want %d and %d", len(c.kept), len(c.refs), files, per)
		}
		rw.Commit()
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1e3/float64(n), "cpu-ms/op")
	b.ReportMetric(float64(r.FilesRead()-read0)/float64(n), "files-read/op")
}
