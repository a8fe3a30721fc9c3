package gitsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
)

// maxListBytes bounds the output of the git ls-tree of ListFiles: 32 MiB holds
// hundreds of thousands of paths of ordinary length.
const maxListBytes = 32 << 20

// ListFiles returns the paths of the files in the tree of commit sha of the
// repository target names (any form ParseTarget accepts; only its repository and
// branch are used, not its path): slash-separated, relative to the repository root,
// sorted. Symbolic links and submodules are listed as paths; folders are not. An
// empty sha means the tip of the target's branch.
//
// It reads the tree from the Reader's cache, the same way Read does: it checks
// AllowedHosts and AllowedRoots first, and fetches the target's branch into the
// cache only when the cache does not hold the commit. It returns at most max paths
// and reads at most 32 MiB of listing; past either bound it stops git and returns
// the paths so far, with no error (the first in git's tree order, so the same
// commit always gives the same paths).
//
// Errors: an error for a max that is not positive; *InvalidTargetError for a target
// that does not parse or a sha that is not a full lower-case commit hash;
// *NotAllowedError; *NotFoundError for a missing repository or branch, or a commit
// that the branch does not bring; and ctx's error (wrapped) when ctx ends or
// Options.Timeout passes.
func (r *Reader) ListFiles(ctx context.Context, target string, sha string, max int) ([]string, error) {
	if max <= 0 {
		return nil, fmt.Errorf("gitsource: ListFiles: max must be positive, got %d", max)
	}
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	t.CommitSHA = sha
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	rp, err := r.locate(t)
	if err != nil {
		return nil, err
	}
	rev, err := r.sync(ctx, rp, t)
	if err != nil {
		return nil, err
	}
	list := &pathList{max: max, maxBytes: maxListBytes}
	err = r.run(ctx, rp.dir, protoNone, list, "ls-tree", "-r", "--name-only", "-z", rev.head+"^{tree}")
	if err != nil && !(list.full && ctx.Err() == nil) {
		return nil, err
	}
	sort.Strings(list.paths)
	return list.paths, nil
}

// errListFull stops the git ls-tree of ListFiles when it printed enough.
var errListFull = errors.New("enough paths listed")

// pathList collects the NUL-terminated paths git writes, up to max paths and
// maxBytes bytes; past either it sets full and fails the write, which stops git.
type pathList struct {
	max      int
	maxBytes int64
	paths    []string
	partial  []byte
	written  int64
	full     bool
}

// Write adds the complete paths in p and keeps an unterminated tail for the next
// write.
func (l *pathList) Write(p []byte) (int, error) {
	if l.full {
		return 0, errListFull
	}
	l.written += int64(len(p))
	if l.written > l.maxBytes {
		l.full = true
		return 0, errListFull
	}
	rest := p
	for {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			l.partial = append(l.partial, rest...)
			return len(p), nil
		}
		l.paths = append(l.paths, string(l.partial)+string(rest[:i]))
		l.partial = l.partial[:0]
		rest = rest[i+1:]
		if len(l.paths) >= l.max {
			l.full = true
			return 0, errListFull
		}
	}
}
