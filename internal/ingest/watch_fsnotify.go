//go:build !linux

package ingest

import (
	"errors"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
)

// fsSource is the source of systems other than Linux: fsnotify, which does
// not tell when a writer closes a file, so a written or created file is
// never known complete (it waits for the settle time).
type fsSource struct {
	fs *fsnotify.Watcher
	feed
}

func newSource() (source, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	s := &fsSource{fs: fs}
	s.init()
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

func (s *fsSource) close() error {
	s.stop()
	return s.fs.Close()
}
