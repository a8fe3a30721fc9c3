package ingest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultWatchSettle is how long a Watcher waits, after the last change of
// a file that may still be being written, before it reports it: the time an
// edit's writes, rename and chmod may take apart.
const DefaultWatchSettle = 20 * time.Millisecond

// doneSettle is how long a Watcher gathers further changes once every
// changed file is complete (closed after writing, renamed in or away,
// removed): an editor's next step (the rename after the write of a copy, the
// removal of a backup) comes within microseconds, and belongs in the same
// report.
const doneSettle = 2 * time.Millisecond

// Watcher follows the folders of file locations with the operating system's
// file notifications (inotify on Linux) and reports the files that change
// in them, so an edit is read at once instead of at the next periodic
// refresh. It watches folders, not files, so an editor that replaces a file
// (write a copy, rename it over) is seen too. Folders are not watched
// recursively: a file in a folder below a location's own (followed through
// a Location entity, or matched by **) waits for the periodic refresh.
//
// A file is reported once it is complete: on Linux, when the writer that
// wrote it closed it, or it was renamed into the folder or away, or removed
// (then within doneSettle, which gathers an editor's steps); a file still
// open for writing is reported only after the settle time passed without a
// change. Where the system does not tell when a writer closes a file, every
// written or created file waits for the settle time.
type Watcher struct {
	src    source
	settle time.Duration
	// done is doneSettle; tests set it.
	done time.Duration

	mu   sync.Mutex
	dirs map[string]bool
}

// source is the operating system's notifications of file changes in
// watched folders.
type source interface {
	add(dir string) error
	remove(dir string) error
	// changes are the changes of files in the watched folders, in order;
	// the channel is closed once the source is closed.
	changes() <-chan change
	close() error
}

// feed is the channel a source sends its changes on, and the signal that
// its reader is gone (stop). A source embeds it and calls init before use.
type feed struct {
	out  chan change
	done chan struct{}
	once sync.Once
}

// init makes f's channels.
func (f *feed) init() {
	f.out = make(chan change)
	f.done = make(chan struct{})
}

// changes are what the source sent; the source closes the channel when its
// reading ends.
func (f *feed) changes() <-chan change { return f.out }

// stop tells send that nobody reads any more; it may be called more than once.
func (f *feed) stop() { f.once.Do(func() { close(f.done) }) }

// send hands c to the reader; false once stopped.
func (f *feed) send(c change) bool {
	select {
	case f.out <- c:
		return true
	case <-f.done:
		return false
	}
}

// change is one notification of a source.
type change struct {
	// path is the file changed (a cleaned absolute path).
	path string
	// complete says the change leaves the file complete: written and
	// closed, renamed in or away, removed.
	complete bool
	// overflow says the system dropped changes (path is empty).
	overflow bool
}

// NewWatcher returns a Watcher that watches nothing yet; settle is
// DefaultWatchSettle when zero or less.
func NewWatcher(settle time.Duration) (*Watcher, error) {
	src, err := newSource()
	if err != nil {
		return nil, err
	}
	if settle <= 0 {
		settle = DefaultWatchSettle
	}
	return &Watcher{src: src, settle: settle, done: doneSettle, dirs: map[string]bool{}}, nil
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
			_ = w.src.remove(d)
			delete(w.dirs, d)
		}
	}
	var first error
	for d := range want {
		if w.dirs[d] {
			continue
		}
		if err := w.src.add(d); err != nil {
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
// ends. A report gathers the changes until every file changed is complete
// and doneSettle passed without a change, or else until the settle time
// passed without one (Watcher). changed runs on Run's goroutine: changes
// during it are reported after it returns.
func (w *Watcher) Run(ctx context.Context, changed func(Report)) {
	w.run(ctx, w.src.changes(), changed)
}

// run is Run over the changes of cs.
func (w *Watcher) run(ctx context.Context, cs <-chan change, changed func(Report)) {
	// pending are the files changed since the last report, each true when
	// its last change left it complete; open counts those not.
	pending := map[string]bool{}
	open := 0
	overflow := false
	var first time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-cs:
			if !ok {
				return
			}
			if len(pending) == 0 && !overflow {
				first = time.Now()
			}
			if c.overflow {
				overflow = true
			} else {
				was, seen := pending[c.path]
				switch {
				case (!seen || was) && !c.complete:
					open++
				case seen && !was && c.complete:
					open--
				}
				pending[c.path] = c.complete
			}
			wait := w.settle
			if open == 0 {
				wait = w.done
			}
			timer.Reset(wait)
		case <-timer.C:
			paths := make([]string, 0, len(pending))
			for p := range pending {
				paths = append(paths, p)
			}
			slices.Sort(paths)
			clear(pending)
			open = 0
			r := Report{Paths: paths, Overflow: overflow, First: first}
			overflow = false
			changed(r)
		}
	}
}

// Close stops watching; Run returns.
func (w *Watcher) Close() error { return w.src.close() }

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
