//go:build linux

package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifySource is Linux's source: inotify, read directly, because it tells
// when a writer closes a file it wrote (IN_CLOSE_WRITE), so a file saved in
// one go is reported at once instead of after the settle time.
type inotifySource struct {
	f  *os.File // the inotify instance, read through Go's poller
	fd int
	feed

	mu sync.Mutex
	// dirs are the folders watched, by watch descriptor: more than one when
	// two paths name one folder (a symbolic link), which inotify watches
	// once.
	dirs map[int32][]string
	wds  map[string]int32
}

// inotifyMask are the changes watched in a folder: a file created, written,
// closed after writing, renamed in or away, removed.
const inotifyMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE | unix.IN_ONLYDIR

func newSource() (source, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	s := &inotifySource{f: os.NewFile(uintptr(fd), "inotify"), fd: fd, dirs: map[int32][]string{}, wds: map[string]int32{}}
	s.init()
	go s.run()
	return s, nil
}

func (s *inotifySource) add(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wds[dir]; ok {
		return nil
	}
	wd, err := unix.InotifyAddWatch(s.fd, dir, inotifyMask)
	if err != nil {
		return &os.PathError{Op: "watch", Path: dir, Err: err}
	}
	s.dirs[int32(wd)] = append(s.dirs[int32(wd)], dir)
	s.wds[dir] = int32(wd)
	return nil
}

func (s *inotifySource) remove(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wd, ok := s.wds[dir]
	if !ok {
		return nil
	}
	delete(s.wds, dir)
	if s.dirs[wd] = slices.DeleteFunc(s.dirs[wd], func(d string) bool { return d == dir }); len(s.dirs[wd]) > 0 {
		return nil // another path of the folder still watches it
	}
	delete(s.dirs, wd)
	if _, err := unix.InotifyRmWatch(s.fd, uint32(wd)); err != nil {
		return &os.PathError{Op: "unwatch", Path: dir, Err: err}
	}
	return nil
}

func (s *inotifySource) close() error {
	s.stop()
	return s.f.Close()
}

// run reads the instance's events until it is closed, and sends each change
// of a watched folder's file to out.
func (s *inotifySource) run() {
	defer close(s.out)
	buf := make([]byte, 64<<10)
	for {
		n, err := s.f.Read(buf)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return // closed
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				if !s.send(change{overflow: true}) {
					return
				}
				continue
			}
			s.mu.Lock()
			dirs := slices.Clone(s.dirs[ev.Wd])
			if ev.Mask&unix.IN_IGNORED != 0 {
				// The folder is gone (removed, or its filesystem unmounted).
				delete(s.dirs, ev.Wd)
				for _, d := range dirs {
					delete(s.wds, d)
				}
			}
			s.mu.Unlock()
			if len(dirs) == 0 || ev.Len == 0 || ev.Mask&inotifyMask == 0 {
				continue
			}
			// The name is padded with NULs to the event's length.
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			// A file created or written may be written on; one closed
			// after writing, renamed or removed is complete, and so is a
			// folder.
			complete := ev.Mask&(unix.IN_CREATE|unix.IN_MODIFY) == 0 || ev.Mask&unix.IN_ISDIR != 0
			for _, dir := range dirs {
				if !s.send(change{path: filepath.Join(dir, string(name)), complete: complete}) {
					return
				}
			}
		}
	}
}
