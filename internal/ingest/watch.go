package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultWatchSettle is how long a Watcher gathers the changes of one edit
// (an editor's write, rename and chmod) before it reports them.
const DefaultWatchSettle = 20 * time.Millisecond

// Watcher follows the folders of file locations with the operating system's
// file notifications (inotify on Linux) and reports the files that change
// in them, so an edit is read at once instead of at the next periodic
// refresh. It watches folders, not files, so an editor that replaces a file
// (write a copy, rename it over) is seen too. Folders are not watched
// recursively: a file in a folder below a location's own (followed through
// a Location entity, or matched by **) waits for the periodic refresh.
type Watcher struct {
	fs     *fsnotify.Watcher
	settle time.Duration

	mu   sync.Mutex
	dirs map[string]bool
}

// NewWatcher returns a Watcher that watches nothing yet; settle is
// DefaultWatchSettle when zero or less.
func NewWatcher(settle time.Duration) (*Watcher, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if settle <= 0 {
		settle = DefaultWatchSettle
	}
	return &Watcher{fs: fs, settle: settle, dirs: map[string]bool{}}, nil
}

// Watch makes the watcher follow exactly dirs: it adds the new ones and drops
// those no longer named. A folder that cannot be watched (it does not exist
// yet) is skipped and tried again at the next call; the error of the first
// is returned after the others are set.
func (w *Watcher) Watch(dirs []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]bool{}
	for _, d := range dirs {
		want[filepath.Clean(d)] = true
	}
	for d := range w.dirs {
		if !want[d] {
			_ = w.fs.Remove(d)
			delete(w.dirs, d)
		}
	}
	var first error
	for d := range want {
		if w.dirs[d] {
			continue
		}
		if err := w.fs.Add(d); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		w.dirs[d] = true
	}
	return first
}

// Report is one report of a Watcher.
type Report struct {
	// Paths are the files changed, sorted, each once.
	Paths []string
	// Overflow says the operating system dropped changes (its queue of
	// notifications overflowed): any file of the watched folders may have
	// changed, so every watched location must be read whole.
	Overflow bool
	// First is when the first notification of the report arrived: the time
	// since is how long the edit waited to be noticed (the settle time and
	// the report before it).
	First time.Time
}

// Run reports the files changed (written, created, removed or renamed) in
// the watched folders to changed, sorted and each once per report, until ctx
// ends. A report gathers the changes that come within the settle time of
// each other. changed runs on Run's goroutine: changes during it are
// reported after it returns.
func (w *Watcher) Run(ctx context.Context, changed func(Report)) {
	pending := map[string]bool{}
	overflow := false
	var first time.Time
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Remove|fsnotify.Rename) == 0 {
				continue
			}
			if len(pending) == 0 && !overflow {
				first = time.Now()
			}
			pending[filepath.Clean(ev.Name)] = true
			timer = time.After(w.settle)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				if len(pending) == 0 && !overflow {
					first = time.Now()
				}
				overflow = true
				timer = time.After(w.settle)
			}
		case <-timer:
			timer = nil
			paths := make([]string, 0, len(pending))
			for p := range pending {
				paths = append(paths, p)
			}
			slices.Sort(paths)
			clear(pending)
			r := Report{Paths: paths, Overflow: overflow, First: first}
			overflow = false
			changed(r)
		}
	}
}

// Close stops watching; Run returns.
func (w *Watcher) Close() error { return w.fs.Close() }

// WatchDir is the folder to watch for a file location's target: the target's
// folder, or for a glob the folder before its first pattern character.
func WatchDir(target string) string {
	t := strings.TrimPrefix(target, "file://")
	if i := strings.IndexAny(t, "*?["); i >= 0 {
		t = t[:i]
		if !strings.HasSuffix(t, string(filepath.Separator)) {
			return filepath.Dir(t)
		}
		return filepath.Clean(t)
	}
	return filepath.Dir(t)
}
