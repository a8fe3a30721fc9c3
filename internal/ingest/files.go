package ingest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
)

// NotAllowedError is a target outside what Backlot was granted.
type NotAllowedError struct {
	Target string
	Reason string
}

// Error names the target and the rule that refused it.
func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("%s is not allowed: %s", e.Target, e.Reason)
}

// Unwrap returns catalog.ErrNotAllowed, which belongs to fault.Forbidden.
func (e *NotAllowedError) Unwrap() error { return catalog.ErrNotAllowed }

// NotFoundError is a target that does not exist.
type NotFoundError struct {
	Target string
	Err    error
}

// Error names the target.
func (e *NotFoundError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s not found: %v", e.Target, e.Err)
	}
	return e.Target + " not found"
}

// Is reports whether target is fault.NotFound.
func (e *NotFoundError) Is(target error) bool { return target == fault.NotFound }

// InputError is a malformed request.
type InputError struct{ Msg string }

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

// Is reports whether target is fault.Invalid.
func (e *InputError) Is(target error) bool { return target == fault.Invalid }

// Roots confines file targets to a set of folders.
type Roots struct{ dirs []string }

// NewRoots resolves each folder to an absolute path without symbolic links.
func NewRoots(dirs []string) (Roots, error) {
	var r Roots
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return Roots{}, err
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		r.dirs = append(r.dirs, filepath.Clean(abs))
	}
	return r, nil
}

// Dirs returns the allowed folders.
func (r Roots) Dirs() []string { return r.dirs }

// Check returns the cleaned absolute path of p when it lies under a root, with
// symbolic links resolved as far as the path exists.
func (r Roots) Check(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", &NotAllowedError{Target: p, Reason: err.Error()}
	}
	real := resolveExisting(abs)
	for _, d := range r.dirs {
		if real == d || strings.HasPrefix(real, d+string(filepath.Separator)) {
			return abs, nil
		}
	}
	return "", &NotAllowedError{Target: p, Reason: fmt.Sprintf("file locations must lie under one of the configured roots (%s)", strings.Join(r.dirs, ", "))}
}

// resolveExisting resolves symbolic links of the longest existing prefix of p.
func resolveExisting(p string) string {
	rest := ""
	cur := p
	for {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// hasGlob reports whether a path holds glob characters.
func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// expandFiles lists the files a file target names: the file itself, or every file
// matching a glob ("**" matches any number of folders), sorted.
func expandFiles(target string) ([]string, error) {
	if !hasGlob(target) {
		st, err := os.Stat(target)
		if err != nil {
			return nil, &NotFoundError{Target: target, Err: err}
		}
		if st.IsDir() {
			return nil, &InputError{Msg: fmt.Sprintf("%s is a folder; name a file or a glob such as %s", target, filepath.Join(target, "**", "*.yaml"))}
		}
		return []string{target}, nil
	}
	// Walk from the deepest folder without glob characters.
	base, pattern := globParts(target)
	var out []string
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == base {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if name := d.Name(); path != base && (name == ".git" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(base, path)
		if err != nil {
			return nil
		}
		if matchGlob(pattern, strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, &NotFoundError{Target: target, Err: err}
	}
	sort.Strings(out)
	return out, nil
}

// globParts splits a glob into the deepest folder without glob characters
// and the pattern's segments below it.
func globParts(target string) (base string, pattern []string) {
	parts := strings.Split(filepath.ToSlash(target), "/")
	base = "/"
	for i, p := range parts {
		if hasGlob(p) {
			base = filepath.FromSlash(strings.Join(parts[:i], "/"))
			pattern = parts[i:]
			break
		}
	}
	if base == "" {
		base = "/"
	}
	return base, pattern
}

// matchGlob matches path segments against pattern segments with "**".
func matchGlob(pattern, segs []string) bool {
	if len(pattern) == 0 {
		return len(segs) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchGlob(pattern[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := filepath.Match(pattern[0], segs[0])
	if err != nil || !ok {
		return false
	}
	return matchGlob(pattern[1:], segs[1:])
}

// readFileBounded reads at most max bytes, failing when the file is larger.
func readFileBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &NotFoundError{Target: path, Err: err}
		}
		return nil, err
	}
	defer f.Close()
	// Sized by the file's length, the buffer is read into once instead of
	// grown from 512 bytes by doubling; bytes.Buffer asks for MinRead bytes
	// free before each read, the one that meets the end included.
	size := int64(bytes.MinRead)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = min(fi.Size(), max+1) + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", path, max, catalog.ErrTooLarge)
	}
	return b, nil
}
