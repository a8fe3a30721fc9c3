package gitsource

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// repo is a target's repository as the Reader reaches it.
type repo struct {
	// remote is what git fetches from: CloneURL for http(s), the resolved local
	// path for file://.
	remote string
	// proto is the only transport protocol git may use for remote.
	proto string
	// dir is the bare cache repository.
	dir string
	// name is the repository as error messages show it (the target's CloneURL).
	name string
	// pin is the git configuration that makes git connect only to the
	// addresses of the remote's host checkAddresses allowed (set by it).
	pin []string
}

// locate checks t's fields, applies AllowedHosts and AllowedRoots, and returns its
// repository. It contacts no remote; for file:// targets it resolves the local path.
func (r *Reader) locate(t Target) (repo, error) {
	invalid := func(format string, args ...any) (repo, error) {
		return repo{}, &InvalidTargetError{Input: t.String(), Reason: fmt.Sprintf(format, args...)}
	}
	if p, err := cleanPath(t.Path); err != nil {
		return invalid("%v", err)
	} else if p != t.Path {
		return invalid("Path %q is not clean; want %q", t.Path, p)
	}
	if t.Ref != "" {
		if err := checkRef(t.Ref); err != nil {
			return invalid("%v", err)
		}
	}
	if t.CommitSHA != "" && !shaPattern.MatchString(t.CommitSHA) {
		return invalid("CommitSHA %q is not a full lower-case hexadecimal commit hash", t.CommitSHA)
	}
	if hasControl(t.CloneURL) || strings.ContainsAny(t.CloneURL, " ") {
		return invalid("CloneURL contains spaces or control characters")
	}
	u, err := url.Parse(t.CloneURL)
	if err != nil {
		return invalid("CloneURL: %v", unwrapURLError(err))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return invalid("CloneURL must have no credentials, query or fragment")
	}
	switch u.Scheme {
	case "https", "http":
		host := strings.ToLower(u.Host)
		if host == "" {
			return invalid("CloneURL has no host")
		}
		if t.Host != "" && !strings.EqualFold(t.Host, host) {
			return invalid("Host %q does not match CloneURL's host %q", t.Host, host)
		}
		if t.LocalPath != "" {
			return invalid("LocalPath is set on an %s target", u.Scheme)
		}
		if !r.hosts[host] {
			return repo{}, &NotAllowedError{Target: t, Reason: fmt.Sprintf("host %s is not in AllowedHosts", host)}
		}
		return r.repoFor(t.CloneURL, t.CloneURL, t.CloneURL, u.Scheme), nil
	case "file":
		if (u.Host != "" && !strings.EqualFold(u.Host, "localhost")) || !strings.HasPrefix(u.Path, "/") {
			return invalid("CloneURL is not a file URL with an absolute path")
		}
		if strings.Contains(u.Path+"/", "/../") {
			return invalid("CloneURL must not contain \"..\"")
		}
		local := filepath.FromSlash(path.Clean(u.Path))
		if t.LocalPath != "" && filepath.Clean(t.LocalPath) != local {
			return invalid("LocalPath %q does not match CloneURL", t.LocalPath)
		}
		if t.Host != "" {
			return invalid("Host is set on a file target")
		}
		real, err := r.confine(t, local)
		if err != nil {
			return repo{}, err
		}
		return r.repoFor("file://"+filepath.ToSlash(real), t.CloneURL, real, "file"), nil
	default:
		return invalid("CloneURL scheme %q is not https, http or file", u.Scheme)
	}
}

// repoFor returns the repository named name, fetched from remote over proto, whose
// cache directory is keyed by the hash of key.
func (r *Reader) repoFor(key, name, remote, proto string) repo {
	sum := sha256.Sum256([]byte(key))
	return repo{remote: remote, proto: proto, dir: filepath.Join(r.opts.CacheDir, hex.EncodeToString(sum[:])), name: name}
}

// confine resolves the local repository path and checks it is inside AllowedRoots.
// It returns the resolved path, a *NotAllowedError, or a *NotFoundError for a
// missing path inside the roots (a missing path outside them is not allowed, so
// the answer tells nothing about what exists there).
func (r *Reader) confine(t Target, local string) (string, error) {
	roots := r.roots()
	real, err := filepath.EvalSymlinks(local)
	if err != nil {
		lexical := make([]string, 0, len(r.opts.AllowedRoots))
		for _, root := range r.opts.AllowedRoots {
			lexical = append(lexical, filepath.Clean(root))
		}
		if !within(roots, local) && !within(lexical, local) {
			return "", &NotAllowedError{Target: t, Reason: "the repository is not inside any of AllowedRoots"}
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", &NotFoundError{Repo: t.CloneURL}
		}
		return "", fmt.Errorf("gitsource: %s: %w", t.CloneURL, err)
	}
	if !within(roots, real) {
		return "", &NotAllowedError{Target: t, Reason: "the repository is not inside any of AllowedRoots (after resolving symbolic links)"}
	}
	// A worktree's .git may be a file pointing at the real git directory elsewhere.
	gitdir, err := gitFileTarget(real)
	if err != nil {
		return "", fmt.Errorf("gitsource: %s: %w", t.CloneURL, err)
	}
	if gitdir != "" {
		realGitdir, err := filepath.EvalSymlinks(gitdir)
		if err != nil || !within(roots, realGitdir) {
			return "", &NotAllowedError{Target: t, Reason: "the repository's .git file points outside AllowedRoots"}
		}
	}
	return real, nil
}

// roots returns AllowedRoots with symbolic links resolved; roots that do not
// exist are left out.
func (r *Reader) roots() []string {
	out := make([]string, 0, len(r.opts.AllowedRoots))
	for _, root := range r.opts.AllowedRoots {
		if real, err := filepath.EvalSymlinks(root); err == nil {
			out = append(out, real)
		}
	}
	return out
}

// within reports whether p is one of roots or inside one of them.
func within(roots []string, p string) bool {
	for _, root := range roots {
		rel, err := filepath.Rel(root, p)
		if err != nil || filepath.IsAbs(rel) {
			continue
		}
		if rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// gitFileTarget returns the directory a "gitdir: <path>" file at dir/.git names,
// or "" when dir/.git is not a regular file.
func gitFileTarget(dir string) (string, error) {
	name := filepath.Join(dir, ".git")
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	p, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return "", fmt.Errorf(".git is a file but not a gitdir link")
	}
	p = strings.TrimSpace(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p, nil
}
