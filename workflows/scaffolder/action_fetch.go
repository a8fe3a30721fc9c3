package scaffolder

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// templateDir is the folder a template's relative urls start from.
func templateDir(t TemplateInfo) (string, error) {
	loc := t.Location
	for _, p := range []string{"file:", "url:"} {
		loc = strings.TrimPrefix(loc, p)
	}
	if strings.HasPrefix(loc, "file://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", err
		}
		loc = u.Path
	}
	if loc == "" || strings.Contains(loc, "://") {
		return "", inputError("template %s: read from %q; fetch actions read skeletons next to templates registered from files", t.Ref, t.Location)
	}
	return filepath.Dir(loc), nil
}

// source resolves a fetch url to a folder inside the template's own
// folder. An absolute url, a file: url, one that leaves the folder with
// ../, and one whose symbolic links resolve outside the folder are refused:
// an action reads nothing of the server's disk but the template's files (in
// a dry run, the uploaded directoryContents). Errors name the step, the
// input field and the path.
func source(r *Run) (string, error) {
	u, err := r.Required("url")
	if err != nil {
		return "", err
	}
	field := "steps." + r.In.StepID + ".input.url"
	if strings.Contains(u, "://") || strings.HasPrefix(u, "file:") {
		return "", inputError("%s: %q; give a folder relative to the template", field, u)
	}
	if filepath.IsAbs(u) || strings.HasPrefix(filepath.ToSlash(u), "/") {
		return "", inputError("%s: %q is absolute; give a folder inside the template's folder", field, u)
	}
	if !filepath.IsLocal(filepath.FromSlash(u)) {
		return "", inputError("%s: %q leaves the template's folder", field, u)
	}
	dir, err := templateDir(r.In.Template)
	if err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", inputError("%s: %s: the template's folder cannot be read: %v", field, dir, err)
	}
	src := filepath.Join(dir, filepath.FromSlash(u))
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", inputError("%s: %s is not a folder next to the template", field, src)
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", inputError("%s: %s is a symbolic link to %s, outside the template's folder", field, src, real)
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return "", inputError("%s: %s is not a folder next to the template", field, src)
	}
	return real, nil
}

func fetchTemplate(_ context.Context, _ *Activities, r *Run) error {
	globs, err := r.Strings("copyWithoutTemplating")
	if err != nil {
		return err
	}
	// copyWithoutRender is the older name Backstage still reads.
	old, err := r.Strings("copyWithoutRender")
	if err != nil {
		return err
	}
	opts := TemplateOptions{CopyWithoutTemplating: append(globs, old...)}
	opts.Values, _ = r.Input["values"].(map[string]any)
	for name, dst := range map[string]*bool{"cookiecutterCompat": &opts.CookiecutterCompat, "replace": &opts.Replace,
		"trimBlocks": &opts.TrimBlocks, "lstripBlocks": &opts.LstripBlocks} {
		switch v := r.Input[name].(type) {
		case nil:
		case bool:
			*dst = v
		default:
			return inputError("steps.%s.input.%s: is a %T, want true or false", r.In.StepID, name, v)
		}
	}
	switch v := r.Input["templateFileExtension"].(type) {
	case nil, bool:
		if v == true {
			opts.TemplateFileExtension = ".njk"
		}
	case string:
		opts.TemplateFileExtension = v
	default:
		return inputError("steps.%s.input.templateFileExtension: is a %T, want true or an extension", r.In.StepID, v)
	}
	if opts.TemplateFileExtension != "" && (len(opts.CopyWithoutTemplating) > 0 || opts.CookiecutterCompat) {
		return inputError("steps.%s.input.templateFileExtension: goes with neither copyWithoutTemplating nor cookiecutterCompat", r.In.StepID)
	}
	return fetch(r, "fetch:template", "Rendered", func(w Workspace, src, target string) ([]string, error) {
		return FetchTemplateWith(w, src, target, opts)
	})
}

func fetchPlain(_ context.Context, _ *Activities, r *Run) error {
	return fetch(r, "fetch:plain", "Copied", FetchPlain)
}

// fetch runs a fetch action: the folder of input.url into input.targetPath.
func fetch(r *Run, action, verb string, copyTree func(w Workspace, src, target string) ([]string, error)) error {
	src, err := source(r)
	if err != nil {
		return err
	}
	target, err := r.String("targetPath")
	if err != nil {
		return err
	}
	files, err := copyTree(r.Workspace, src, target)
	if err != nil {
		return inputError("steps.%s.input.url: %s %s: %v", r.In.StepID, action, src, err)
	}
	r.Logf("%s %d files into %s", verb, len(files), orDot(target))
	return nil
}
