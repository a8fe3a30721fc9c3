package scaffolder

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/workflows/scaffolder/nunjucks"
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

// FetchTemplate renders the folder src into target with values and the
// copyWithoutTemplating globs; see FetchTemplateWith.
func FetchTemplate(w Workspace, src, target string, values map[string]any, copyWithoutTemplating []string) ([]string, error) {
	return FetchTemplateWith(w, src, target, TemplateOptions{Values: values, CopyWithoutTemplating: copyWithoutTemplating})
}

// TemplateOptions are fetch:template's inputs, as Backstage has them.
type TemplateOptions struct {
	// Values are what the skeleton reads: ${{ values.name }}.
	Values map[string]any
	// CopyWithoutTemplating are globs (slash paths relative to src, * within
	// a path part, ** across parts) of files whose content is copied as it
	// is; their paths are still rendered.
	CopyWithoutTemplating []string
	// CookiecutterCompat reads {{ cookiecutter.name }} instead of
	// ${{ values.name }}.
	CookiecutterCompat bool
	// TemplateFileExtension, when set (".njk" for true), renders the content
	// of only the files with that extension, which it drops from their
	// names; every path is still rendered. It goes with neither
	// CopyWithoutTemplating nor CookiecutterCompat.
	TemplateFileExtension string
	// Replace overwrites files already in the target; without it they are
	// left as they are.
	Replace bool
	// TrimBlocks and LstripBlocks are nunjucks's white-space options.
	TrimBlocks, LstripBlocks bool
	// plain copies paths and contents as they are (fetch:plain).
	plain bool
}

// FetchTemplateWith renders the files of the folder src into target (a
// path in the workspace) as Backstage's fetch:template does: each path, of
// folders too, is a template over {values: values} in Backstage's language
// (see package nunjucks), and each text file's content too, except where
// opts say to copy it; a path that renders empty, or to one starting with /
// or holding //, skips its file (a folder whose name renders empty skips
// what it holds); binary files are copied as they are; every file keeps its
// mode; a file already in the target is kept unless opts.Replace. It
// returns the paths written, relative to target, in walk order. Running it
// again writes the same files.
func FetchTemplateWith(w Workspace, src, target string, opts TemplateOptions) ([]string, error) {
	if opts.TemplateFileExtension != "" && (len(opts.CopyWithoutTemplating) > 0 || opts.CookiecutterCompat) {
		return nil, fmt.Errorf("templateFileExtension goes with neither copyWithoutTemplating nor cookiecutterCompat")
	}
	ext := opts.TemplateFileExtension
	if ext != "" && !strings.HasPrefix(ext, ".") {
		ext = "." + ext
	}
	dst, err := w.Path(target)
	if err != nil {
		return nil, err
	}
	values := opts.Values
	if values == nil {
		values = map[string]any{}
	}
	vars := map[string]any{"values": values}
	if opts.CookiecutterCompat {
		vars = map[string]any{"cookiecutter": values}
	}
	eng, err := nunjucks.Default()
	if err != nil {
		return nil, err
	}
	s, err := eng.Session(nunjucks.Options{CookiecutterCompat: opts.CookiecutterCompat, TrimBlocks: opts.TrimBlocks, LstripBlocks: opts.LstripBlocks}, vars)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	render := func(rel, text string) (string, error) {
		if opts.plain {
			return text, nil
		}
		out, err := s.Render(text)
		if err != nil {
			return "", fmt.Errorf("%s: %w", rel, err)
		}
		return out, nil
	}
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
		renderContent, name := true, rel
		if ext != "" {
			renderContent = !d.IsDir() && path.Ext(rel) == ext
			if renderContent {
				name = strings.TrimSuffix(rel, ext)
			}
		} else if !d.IsDir() {
			renderContent = !matchesAny(opts.CopyWithoutTemplating, rel)
		}
		if name, err = render(rel, name); err != nil {
			return err
		}
		if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "//") {
			return nil
		}
		to, err := (Workspace{Dir: dst}).Path(name)
		if err != nil {
			return fmt.Errorf("%s: rendered path %v", rel, err)
		}
		if _, err := os.Lstat(to); err == nil && !opts.Replace {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if total += int64(len(raw)); total > MaxSkeletonBytes {
			return fmt.Errorf("the skeleton is larger than %d bytes", MaxSkeletonBytes)
		}
		out := raw
		if renderContent && !opts.plain && !isBinary(raw) {
			text, err := render(rel, string(raw))
			if err != nil {
				return err
			}
			out = []byte(text)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, out, fi.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Chmod(to, fi.Mode().Perm()); err != nil {
			return err
		}
		written = append(written, name)
		return nil
	})
	return written, err
}

// FetchPlain copies the folder src into target as it is.
func FetchPlain(w Workspace, src, target string) ([]string, error) {
	return FetchTemplateWith(w, src, target, TemplateOptions{plain: true, Replace: true})
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
