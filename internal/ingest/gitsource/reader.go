package gitsource

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Commit is a git commit as Read reports it.
type Commit struct {
	// SHA is the full commit hash.
	SHA string
	// Author is the commit author's name, as recorded (no mailmap).
	Author string
	// Email is the commit author's e-mail address.
	Email string
	// Time is the author time, in the author's time zone.
	Time time.Time
}

// File is one file read from a repository.
type File struct {
	// URL is the file's canonical URL: the blob URL (or ?ref=&path= URL) of the
	// target, naming the branch actually read, so it stays the same across commits.
	URL string
	// Content is the file's bytes, at most Options.MaxFileBytes.
	Content []byte
	// Commit is the last commit reachable from HeadSHA that changed the file,
	// following git's default history simplification: for a file untouched by later
	// commits it is older than HeadSHA.
	Commit Commit
	// HeadSHA is the commit the file was read at: the branch's tip when read.
	HeadSHA string
	// Target is the target read, with Ref set to the branch read and CommitSHA pinned
	// to HeadSHA. Join it and Read the result to read other files of the same
	// commit without contacting the remote again.
	Target Target
}

// Reader reads files from git repositories through a cache of bare clones. It is
// safe for concurrent use: reads of one repository are serialised while they
// update its cache (contacting the remote), and otherwise run in parallel.
type Reader struct {
	opts    Options
	gitPath string
	hosts   map[string]bool

	mu    sync.Mutex
	locks map[string]chan struct{}
}

// NewReader returns a Reader configured by opts after filling its defaults and
// validating it. It creates Options.CacheDir and fails when the git binary is not
// on PATH.
func NewReader(opts Options) (*Reader, error) {
	opts.AllowedHosts = append([]string(nil), opts.AllowedHosts...)
	opts.AllowedRoots = append([]string(nil), opts.AllowedRoots...)
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("gitsource: the git binary is needed: %w", err)
	}
	if opts.CacheDir, err = filepath.Abs(opts.CacheDir); err != nil {
		return nil, fmt.Errorf("gitsource: CacheDir: %w", err)
	}
	if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("gitsource: creating CacheDir: %w", err)
	}
	hosts := make(map[string]bool, len(opts.AllowedHosts))
	for _, h := range opts.AllowedHosts {
		hosts[strings.ToLower(h)] = true
	}
	return &Reader{opts: opts, gitPath: gitPath, hosts: hosts, locks: map[string]chan struct{}{}}, nil
}

// Read returns the file t names, at the tip of t.Ref (the remote's default branch
// when empty), or at t.CommitSHA when set. The first read of a repository clones
// it into the cache; later reads fetch the branch when its tip moved. Read checks
// AllowedHosts and AllowedRoots before any access to the repository.
//
// Errors: *InvalidTargetError for a malformed Target, *NotAllowedError,
// *NotFoundError for a missing repository, branch or file, *TooLargeError, an
// error for a path that is a directory, symbolic link or submodule, and ctx's
// error (wrapped) when ctx ends or Options.Timeout passes.
func (r *Reader) Read(ctx context.Context, t Target) (File, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	rp, err := r.locate(t)
	if err != nil {
		return File{}, err
	}
	rev, err := r.sync(ctx, rp, t)
	if err != nil {
		return File{}, err
	}
	return r.readAt(ctx, rp, t, rev)
}

// readAt reads t.Path at rev from the cache of rp.
func (r *Reader) readAt(ctx context.Context, rp repo, t Target, rev revision) (File, error) {
	read := t
	read.Ref = rev.ref
	read.CommitSHA = ""
	fileURL := read.String()
	read.CommitSHA = rev.head

	out, err := r.output(ctx, rp.dir, protoNone, maxSmallOutput, "ls-tree", "-z", "-l", rev.head, "--", t.Path)
	if err != nil {
		return File{}, err
	}
	entry, ok := findEntry(out, t.Path)
	if !ok {
		return File{}, &NotFoundError{Repo: rp.name, Ref: rev.ref, Path: t.Path}
	}
	switch {
	case entry.mode == "120000":
		return File{}, fmt.Errorf("gitsource: %s is a symbolic link; name the file it points to", fileURL)
	case entry.kind == "tree":
		return File{}, fmt.Errorf("gitsource: %s is a directory, not a file", fileURL)
	case entry.kind != "blob":
		return File{}, fmt.Errorf("gitsource: %s is a %s (submodule?), not a file", fileURL, entry.kind)
	case entry.size > r.opts.MaxFileBytes:
		return File{}, &TooLargeError{URL: fileURL, Size: entry.size, Limit: r.opts.MaxFileBytes}
	}
	content, err := r.output(ctx, rp.dir, protoNone, entry.size, "cat-file", "blob", entry.oid)
	if err != nil {
		return File{}, err
	}
	commit, err := r.lastCommit(ctx, rp, rev.head, t.Path)
	if err != nil {
		return File{}, err
	}
	return File{URL: fileURL, Content: content, Commit: commit, HeadSHA: rev.head, Target: read}, nil
}

// treeEntry is one line of git ls-tree -l.
type treeEntry struct {
	mode, kind, oid string
	size            int64
}

// findEntry returns the entry for exactly path in NUL-terminated ls-tree -l output.
func findEntry(out []byte, path string) (treeEntry, bool) {
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, name, ok := strings.Cut(string(rec), "\t")
		if !ok || name != path {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 4 {
			continue
		}
		e := treeEntry{mode: f[0], kind: f[1], oid: f[2]}
		if f[3] != "-" {
			n, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil {
				continue
			}
			e.size = n
		}
		return e, true
	}
	return treeEntry{}, false
}

// lastCommit returns the last commit reachable from head that changed path.
func (r *Reader) lastCommit(ctx context.Context, rp repo, head, path string) (Commit, error) {
	out, err := r.output(ctx, rp.dir, protoNone, maxSmallOutput,
		"log", "-1", "--no-show-signature", "--format=%H%x00%an%x00%ae%x00%aI", head, "--", path)
	if err != nil {
		return Commit{}, err
	}
	f := strings.Split(strings.TrimRight(string(out), "\n"), "\x00")
	if len(f) != 4 {
		return Commit{}, fmt.Errorf("gitsource: %s: no commit changed %s up to %s", rp.name, path, head)
	}
	at, err := time.Parse(time.RFC3339, f[3])
	if err != nil {
		return Commit{}, fmt.Errorf("gitsource: %s: commit %s has a bad author time %q: %w", rp.name, f[0], f[3], err)
	}
	return Commit{SHA: f[0], Author: f[1], Email: f[2], Time: at}, nil
}
