//go:build !linux

package ingest

import (
	"errors"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// fsSource is the source of systems other than Linux: fsnotify, which does
// not tell when a writer closes a file, so a written or created file is
// never known complete (it waits for the settle time).
type fsSource struct {
	fs   *fsnotify.Watcher
	out  chan change
	done chan struct{}
	once sync.Once
}

func newSource() (source, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	s := &fsSource{fs: fs, out: make(chan change), done: make(chan struct{})}
	go s.run()
	return s, nil
}

func (s *fsSource) run() {
	defer close(s.out)
	for {
		select {
		case ev, ok := <-s.fs.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Remove|fsnotify.Rename) == 0 {
				continue
			}
			if !s.send(change{path: filepath.Clean(ev.Name), complete: ev.Op&(fsnotify.Write|fsnotify.Create) == 0}) {
				return
			}
		case err, ok := <-s.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				if !s.send(change{overflow: true}) {
					return
				}
			}
		}
	}
}

func (s *fsSource) add(dir string) error    { return s.fs.Add(dir) }
func (s *fsSource) remove(dir string) error { return s.fs.Remove(dir) }
func (s *fsSource) changes() <-chan change  { return s.out }

func (s *fsSource) close() error {
	s.once.Do(func() { close(s.done) })
	return s.fs.Close()
}

// send hands c to out; false once the source is closed.
func (s *fsSource) send(c change) bool {
	select {
	case s.out <- c:
		return true
	case <-s.done:
		return false
	}
}
