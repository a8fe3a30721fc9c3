package gitsource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"backlot.dev/backlot/workflows/netguard"
)

// revision is what sync resolved a target to.
type revision struct {
	// ref is the branch or tag name read (the default branch's name when the target
	// named none); the commit hash when a pinned target named no ref.
	ref string
	// head is the commit read: the ref's tip, or the pinned commit.
	head string
}

// maxSmallOutput bounds the output of git commands that print a few lines.
const maxSmallOutput = 1 << 20

// lock takes the per-repository lock of dir, waiting at most until ctx ends: first
// the Reader's own, then a file lock (dir + ".lock") shared with other processes
// using the same cache. The returned function releases both.
func (r *Reader) lock(ctx context.Context, dir string) (func(), error) {
	r.mu.Lock()
	ch := r.locks[dir]
	if ch == nil {
		ch = make(chan struct{}, 1)
		r.locks[dir] = ch
	}
	r.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("gitsource: waiting for another read of the same repository: %w", ctx.Err())
	}
	unlockFile, err := lockFile(ctx, dir+".lock")
	if err != nil {
		<-ch
		return nil, fmt.Errorf("gitsource: locking the cache of the repository: %w", err)
	}
	return func() { unlockFile(); <-ch }, nil
}

// sync brings the cache of rp up to date for t and returns the commit to read.
// It holds the repository's lock while it works. A target pinned to a commit the
// cache already holds is answered without contacting the remote.
func (r *Reader) sync(ctx context.Context, rp repo, t Target) (revision, error) {
	unlock, err := r.lock(ctx, rp.dir)
	if err != nil {
		return revision{}, err
	}
	defer unlock()
	if err := r.ensureRepo(ctx, rp); err != nil {
		return revision{}, err
	}
	if t.CommitSHA != "" && r.hasCommit(ctx, rp, t.CommitSHA) {
		ref := t.Ref
		if ref == "" {
			ref = t.CommitSHA
		}
		return revision{ref: ref, head: t.CommitSHA}, nil
	}
	if rp.pin, err = r.checkAddresses(ctx, rp, t); err != nil {
		return revision{}, err
	}
	name, remoteRef, oid, err := r.lsRemote(ctx, rp, t.Ref)
	if err != nil {
		return revision{}, err
	}
	local := cacheRef(remoteRef)
	if cur, _ := r.output(ctx, rp.dir, protoNone, maxSmallOutput, "rev-parse", "--verify", "--quiet", local); strings.TrimSpace(string(cur)) != oid {
		err := r.runRemote(ctx, rp, nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
			"--no-recurse-submodules", "--update-head-ok", rp.remote, "+"+remoteRef+":"+local)
		if err != nil {
			return revision{}, r.remoteError(err, rp, t.Ref)
		}
	}
	out, err := r.output(ctx, rp.dir, protoNone, maxSmallOutput, "rev-parse", "--verify", local+"^{commit}")
	if err != nil {
		return revision{}, err
	}
	rev := revision{ref: name, head: strings.TrimSpace(string(out))}
	if t.CommitSHA != "" {
		if !r.hasCommit(ctx, rp, t.CommitSHA) {
			return revision{}, &NotFoundError{Repo: rp.name, Ref: t.CommitSHA}
		}
		rev.head = t.CommitSHA
	}
	return rev, nil
}

// checkAddresses refuses, with a *NotAllowedError, an http(s) remote whose
// host resolves to an address Options.Guard refuses. git dials by itself, so
// the check is made just before it runs, and the git configuration it
// returns pins the host to the addresses checked (http.curloptResolve, as
// curl's --resolve): a name rebound in between is not resolved again. git
// follows no redirect (gitConfig).
func (r *Reader) checkAddresses(ctx context.Context, rp repo, t Target) ([]string, error) {
	if rp.proto != "http" && rp.proto != "https" {
		return nil, nil
	}
	u, err := url.Parse(rp.remote)
	if err != nil {
		return nil, err
	}
	port := uint16(443)
	if u.Scheme == "http" {
		port = 80
	}
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		port = uint16(p)
	}
	addrs, err := r.opts.Guard.CheckHost(ctx, u.Hostname(), port)
	if refused, ok := errors.AsType[*netguard.RefusedError](err); ok {
		return nil, &NotAllowedError{Target: t, Reason: refused.Error()}
	}
	if err != nil {
		return nil, fmt.Errorf("gitsource: %s: resolving %s: %w", rp.name, u.Hostname(), err)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil || len(addrs) == 0 {
		return nil, nil // an address: nothing to resolve
	}
	list := make([]string, len(addrs))
	for i, a := range addrs {
		list[i] = a.String()
		if a.Is6() {
			list[i] = "[" + list[i] + "]"
		}
	}
	return []string{"-c", fmt.Sprintf("http.curloptResolve=%s:%d:%s", u.Hostname(), port, strings.Join(list, ","))}, nil
}

// cacheRef returns the cache's ref for a remote ref: refs/heads/a/b is kept as
// refs/backlot/heads/a%2Fb, so branches a and a/b never clash in the cache even
// when one replaced the other on the remote.
func cacheRef(remoteRef string) string {
	rest, _ := strings.CutPrefix(remoteRef, "refs/")
	kind, name, _ := strings.Cut(rest, "/")
	return "refs/backlot/" + kind + "/" + url.PathEscape(name)
}

// ensureRepo creates the bare cache repository of rp if it does not exist. It is
// created under a temporary name and renamed into place, so a crash or a second
// process never sees a half-made repository.
func (r *Reader) ensureRepo(ctx context.Context, rp repo) error {
	if _, err := os.Stat(filepath.Join(rp.dir, "HEAD")); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(r.opts.CacheDir, ".init-")
	if err != nil {
		return fmt.Errorf("gitsource: creating the cache of %s: %w", rp.name, err)
	}
	defer os.RemoveAll(tmp)
	if err := r.run(ctx, "", protoNone, nil, "init", "--quiet", "--bare", "--template=", tmp); err != nil {
		return err
	}
	// For people looking at the cache: which repository a hashed folder holds.
	_ = os.WriteFile(filepath.Join(tmp, "description"), []byte(rp.name+"\n"), 0o644)
	if err := os.Rename(tmp, rp.dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(rp.dir, "HEAD")); statErr == nil {
			return nil // another process made it first
		}
		return fmt.Errorf("gitsource: creating the cache of %s: %w", rp.name, err)
	}
	return nil
}

// hasCommit reports whether the cache of rp holds the commit sha.
func (r *Reader) hasCommit(ctx context.Context, rp repo, sha string) bool {
	return r.run(ctx, rp.dir, protoNone, nil, "rev-parse", "--verify", "--quiet", sha+"^{commit}") == nil
}

// lsRemote asks the remote for ref (a branch, else a tag; the default branch when
// ref is empty) and returns its short name, full name and object id.
func (r *Reader) lsRemote(ctx context.Context, rp repo, ref string) (name, full, oid string, err error) {
	args := []string{"ls-remote", "--symref", rp.remote}
	if ref == "" {
		args = append(args, "HEAD")
	} else {
		args = append(args, "refs/heads/"+ref, "refs/tags/"+ref)
	}
	out, err := r.outputRemote(ctx, rp, maxSmallOutput, args...)
	if err != nil {
		return "", "", "", r.remoteError(err, rp, ref)
	}
	refs := map[string]string{}
	headTarget := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		left, right, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		if target, isSym := strings.CutPrefix(left, "ref: "); isSym {
			if right == "HEAD" {
				headTarget = target
			}
			continue
		}
		refs[right] = left
	}
	if ref == "" {
		if refs["HEAD"] == "" {
			return "", "", "", &NotFoundError{Repo: rp.name}
		}
		name, ok := strings.CutPrefix(headTarget, "refs/heads/")
		if !ok || checkRef(name) != nil {
			return "", "", "", fmt.Errorf("gitsource: %s: the remote HEAD does not name a branch; give ref= explicitly", rp.name)
		}
		return name, headTarget, refs["HEAD"], nil
	}
	for _, full := range []string{"refs/heads/" + ref, "refs/tags/" + ref} {
		if oid := refs[full]; oid != "" {
			return ref, full, oid, nil
		}
	}
	return "", "", "", &NotFoundError{Repo: rp.name, Ref: ref}
}

// remoteError turns git's complaint about a missing repository or ref into a
// *NotFoundError and leaves other errors as they are.
func (r *Reader) remoteError(err error, rp repo, ref string) error {
	var ge *gitError
	if !errors.As(err, &ge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := ge.Stderr
	switch {
	case strings.Contains(msg, "couldn't find remote ref"):
		return &NotFoundError{Repo: rp.name, Ref: ref}
	case strings.Contains(msg, "does not appear to be a git repository"),
		strings.Contains(msg, "repository") && strings.Contains(msg, "not found"):
		return &NotFoundError{Repo: rp.name}
	}
	return err
}
