//go:build linux

package ingest_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"backlot.dev/backlot/internal/ingest"
)

// watchForever starts a watcher of dir whose settle time is an hour: every
// report it makes within a test comes from a file known complete. Each report
// answers the paths and what each held when it was reported.
func watchForever(t *testing.T, dir string) <-chan map[string]string {
	t.Helper()
	w, err := ingest.NewWatcher(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Watch([]string{dir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	reports := make(chan map[string]string, 16)
	go w.Run(ctx, func(r ingest.Report) {
		seen := map[string]string{}
		for _, p := range r.Paths {
			b, _ := os.ReadFile(p)
			seen[p] = string(b)
		}
		reports <- seen
	})
	return reports
}

func nextReport(t *testing.T, reports <-chan map[string]string, what string) map[string]string {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("no report after %s", what)
		return nil
	}
}

// TestWatcherReportsAFileOnceItsWriterClosedIt: a file written in several
// writes, with pauses longer than a short settle between them, is reported
// once its writer closed it, whole, and not before; the settle time (an
// hour here) is not waited for.
func TestWatcherReportsAFileOnceItsWriterClosedIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	reports := watchForever(t, dir)
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{"apiVersion: backstage.io/v1alpha1\n", "kind: Component\n", "metadata: {name: a}\n"}
	for _, p := range parts {
		if _, err := f.WriteString(p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // longer than DefaultWatchSettle
		select {
		case r := <-reports:
			t.Fatalf("reported %q while its writer still wrote it", r)
		default:
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r := nextReport(t, reports, "the file's close")
	if want := map[string]string{file: parts[0] + parts[1] + parts[2]}; !maps.Equal(r, want) {
		t.Fatalf("reported %q, want %q", r, want)
	}
}

// TestWatcherReportsARenameOverAtOnce: an editor's copy renamed over the
// file is complete: the copy's and the file's changes are reported together
// without the settle time (an hour here).
func TestWatcherReportsARenameOverAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(file, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := watchForever(t, dir)
	tmp := filepath.Join(dir, ".edit.tmp")
	if err := os.WriteFile(tmp, []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	// The copy, closed before the rename, may come in a report of its own.
	for {
		r := nextReport(t, reports, "the rename over the file")
		if got, ok := r[file]; ok {
			if got != "a: 2\n" {
				t.Fatalf("read %q, want the renamed copy", got)
			}
			return
		}
		if keys := slices.Sorted(maps.Keys(r)); !slices.Equal(keys, []string{tmp}) {
			t.Fatalf("reported %q before the file", keys)
		}
	}
}

// TestWatcherReportsAFolderUnderEachOfItsPaths: a folder watched under two
// paths (one a symbolic link) is watched once by the system; a change is
// reported under both, and dropping one path keeps the other watched.
func TestWatcherReportsAFolderUnderEachOfItsPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	w, err := ingest.NewWatcher(0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch([]string{dir, link}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan []string, 16)
	go w.Run(ctx, func(r ingest.Report) { reports <- r.Paths })
	next := func(what string, want []string) {
		t.Helper()
		got := map[string]bool{}
		for len(got) < len(want) {
			select {
			case r := <-reports:
				for _, p := range r {
					got[p] = true
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("after %s: reported %v, want %v", what, got, want)
			}
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
			t.Fatalf("after %s: reported %v, want %v", what, keys, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	next("a write", slices.Sorted(slices.Values([]string{filepath.Join(dir, "a.yaml"), filepath.Join(link, "a.yaml")})))
	if err := w.Watch([]string{link}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	next("a write after the folder's own path was dropped", []string{filepath.Join(link, "b.yaml")})
}
