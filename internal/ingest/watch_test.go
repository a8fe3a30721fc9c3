package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"backlot.dev/backlot/internal/ingest"
)

func TestWatcherReportsEditedFiles(t *testing.T) {
	t.Parallel()
	dir, other := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(file, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := ingest.NewWatcher(0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch([]string{dir, filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("watching a folder that does not exist gave no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan []string, 16)
	go w.Run(ctx, func(r ingest.Report) { reports <- r.Paths })

	next := func(what string) []string {
		t.Helper()
		select {
		case p := <-reports:
			return p
		case <-time.After(20 * time.Second):
			t.Fatalf("no report after %s", what)
			return nil
		}
	}
	// A file outside the watched folders is not reported; the edit after it is.
	if err := os.WriteFile(filepath.Join(other, "x.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := next("an edit"); !slices.Equal(got, []string{file}) {
		t.Fatalf("reported %q, want %q", got, file)
	}
	// An editor that writes a copy and renames it over the file.
	tmp := filepath.Join(dir, ".catalog-info.yaml.swp")
	if err := os.WriteFile(tmp, []byte("a: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	// The copy's events may come in a report of their own before the file's.
	got := next("a rename over the file")
	for !slices.Contains(got, file) {
		for _, p := range got {
			if p != tmp {
				t.Fatalf("reported %q during the rename, want only %q and %q", p, tmp, file)
			}
		}
		got = next("the rename's file")
	}
	// Dropping the folder stops its reports; a newly watched one reports.
	if err := w.Watch([]string{other}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("a: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "x.yaml"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := next("an edit in the new folder"); !slices.Equal(got, []string{filepath.Join(other, "x.yaml")}) {
		t.Fatalf("reported %q, want only the file of the watched folder", got)
	}
}

func TestWatchDir(t *testing.T) {
	t.Parallel()
	for target, want := range map[string]string{
		"/cat/all.yaml":                 "/cat",
		"file:///cat/all.yaml":          "/cat",
		"/cat/*.yaml":                   "/cat",
		"/cat/team-*/catalog-info.yaml": "/cat",
		"/cat/sub/[ab].yaml":            "/cat/sub",
	} {
		if got := ingest.WatchDir(target); got != want {
			t.Errorf("WatchDir(%q) = %q, want %q", target, got, want)
		}
	}
}

// TestWatcherReportsAnOverflow: while the watcher's reader is held up, more
// changes come than the operating system queues (fs.inotify's
// max_queued_events, 16,384 by default); a later report says changes were
// dropped, so every watched location is read whole.
func TestWatcherReportsAnOverflow(t *testing.T) {
	t.Parallel()
	limit := 16384
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		fmt.Sscan(string(b), &limit)
	}
	dir := t.TempDir()
	w, err := ingest.NewWatcher(0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Watch([]string{dir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan ingest.Report, 64)
	release := make(chan struct{})
	go w.Run(ctx, func(r ingest.Report) {
		reports <- r
		<-release // the first report holds the reader up
	})
	if err := os.WriteFile(filepath.Join(dir, "first.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reports:
		if r.Overflow {
			t.Fatalf("the first report says changes were dropped: %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no report of the first file")
	}
	// Each file makes two events (created, written).
	for i := range limit/2 + 1000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.yaml", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	deadline := time.After(60 * time.Second)
	for {
		select {
		case r := <-reports:
			if r.Overflow {
				return
			}
		case <-deadline:
			t.Fatal("no report said changes were dropped")
		}
	}
}
