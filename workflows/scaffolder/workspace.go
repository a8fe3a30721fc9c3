package scaffolder

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/policies"
)

// MaxSkeletonBytes bounds the files a fetch action copies or renders.
const MaxSkeletonBytes = 64 << 20

// Workspace is a task's scratch folder. Every path an action names is
// relative to it and stays inside it.
type Workspace struct {
	// Dir is the folder, absolute.
	Dir string
}

// Path returns the absolute path of rel inside the workspace, refusing an
// absolute path, one that leaves the workspace, and one that goes through a
// symbolic link.
func (w Workspace) Path(rel string) (string, error) {
	if rel == "" || rel == "." || rel == "./" {
		return w.Dir, nil
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(filepath.ToSlash(rel), "/") {
		return "", fmt.Errorf("%q is absolute; paths are relative to the workspace", rel)
	}
	clean := path.Clean(filepath.ToSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q leaves the workspace", rel)
	}
	p := w.Dir
	for _, part := range strings.Split(clean, "/") {
		p = filepath.Join(p, part)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%q goes through a symbolic link", rel)
		}
	}
	return p, nil
}

// FetchTemplate renders the files of the folder src into target (a path in
// the workspace): each file's path and content is a template over
// {values: values} (see policies.ParseTemplate), except the files matching a
// copyWithoutTemplating glob (slash paths relative to src, * within a path
// part, ** across parts), which are copied as they are. A rendered path that
// comes out empty drops the file. It returns the paths written, relative to
// target, in walk order. Running it again writes the same files.
func FetchTemplate(w Workspace, src, target string, values map[string]any, copyWithoutTemplating []string) ([]string, error) {
	dst, err := w.Path(target)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"values": values}
	var written []string
	var total int64
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: symbolic links are not copied", rel)
		}
		if d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if total += int64(len(raw)); total > MaxSkeletonBytes {
			return fmt.Errorf("the skeleton is larger than %d bytes", MaxSkeletonBytes)
		}
		out, name := raw, rel
		if !matchesAny(copyWithoutTemplating, rel) {
			if name, err = renderText(rel, rel, vars); err != nil {
				return err
			}
			if strings.TrimSpace(name) == "" {
				return nil
			}
			text, err := renderText(rel, string(raw), vars)
			if err != nil {
				return err
			}
			out = []byte(text)
		}
		to, err := (Workspace{Dir: dst}).Path(name)
		if err != nil {
			return fmt.Errorf("%s: rendered path %v", rel, err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, out, 0o644); err != nil {
			return err
		}
		written = append(written, name)
		return nil
	})
	return written, err
}

// FetchPlain copies the folder src into target as it is.
func FetchPlain(w Workspace, src, target string) ([]string, error) {
	return FetchTemplate(w, src, target, nil, []string{"**"})
}

// renderText renders one text of file rel.
func renderText(rel, text string, vars map[string]any) (string, error) {
	t, err := policies.ParseTemplate(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	s, err := t.RenderString(vars)
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	return s, nil
}

// matchesAny reports whether the slash path matches one of the globs.
func matchesAny(globs []string, rel string) bool {
	for _, g := range globs {
		if globMatch(strings.TrimPrefix(path.Clean(g), "./"), rel) {
			return true
		}
	}
	return false
}

// globMatch matches path.Match patterns part by part, with ** for any number
// of parts.
func globMatch(glob, rel string) bool {
	gs, ps := strings.Split(glob, "/"), strings.Split(rel, "/")
	var match func(gs, ps []string) bool
	match = func(gs, ps []string) bool {
		for len(gs) > 0 {
			if gs[0] == "**" {
				for i := 0; i <= len(ps); i++ {
					if match(gs[1:], ps[i:]) {
						return true
					}
				}
				return false
			}
			if len(ps) == 0 {
				return false
			}
			if ok, _ := path.Match(gs[0], ps[0]); !ok {
				return false
			}
			gs, ps = gs[1:], ps[1:]
		}
		return len(ps) == 0
	}
	return match(gs, ps)
}

// Rename moves files in the workspace; without overwrite an existing
// destination is an error. A rename already done (no source, the
// destination there) is skipped, so a retry succeeds.
func Rename(w Workspace, from, to string, overwrite bool) error {
	src, err := w.Path(from)
	if err != nil {
		return err
	}
	dst, err := w.Path(to)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(src); os.IsNotExist(err) {
		if _, err := os.Lstat(dst); err == nil {
			return nil
		}
		return fmt.Errorf("%s: no such file", from)
	}
	if _, err := os.Lstat(dst); err == nil && !overwrite {
		return fmt.Errorf("%s: exists (set overwrite)", to)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Rename(src, dst)
}

// Delete removes files and folders of the workspace; a missing one is fine.
func Delete(w Workspace, files []string) error {
	for _, f := range files {
		p, err := w.Path(f)
		if err != nil {
			return err
		}
		if p == w.Dir {
			return fmt.Errorf("%q is the whole workspace", f)
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
