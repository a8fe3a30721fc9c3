package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// cookiecutterContents is the folder of a cookiecutter template the fetched
// contents go in: cookiecutter renders its name to "contents".
const cookiecutterContents = "{{cookiecutter and 'contents'}}"

// cookiecutterTool is the cookiecutter program fetch:cookiecutter runs.
var cookiecutterTool = sandboxedTool{Action: "fetch:cookiecutter", Program: "cookiecutter", Needs: "the cookiecutter program", Install: "apt-get install cookiecutter, or pip install cookiecutter"}

// CookiecutterTimeout bounds one cookiecutter run.
const CookiecutterTimeout = 5 * time.Minute

// fetchCookiecutter is fetch:cookiecutter, laid out as Backstage's module
// lays it out: the folder at input.url (beside the template) holds the
// contents of the new project, not a whole cookiecutter template. It is
// fetched into template/{{cookiecutter and 'contents'}}, its own
// cookiecutter.json (the defaults, when it has one) is merged with
// input.values, _copy_without_render and _extensions into
// template/cookiecutter.json, the cookiecutter program renders template/,
// and the one folder it makes (the contents, rendered) is copied into
// input.targetPath. Cookiecutter runs in the scripts' sandbox (no network,
// a scratch folder and the limits): its Jinja extensions are code. Running
// it again writes the same files.
func fetchCookiecutter(ctx context.Context, a *Activities, r *Run) error {
	src, target, values, err := sandboxedInputs(r)
	if err != nil {
		return err
	}
	copyWithout, err := r.Strings("copyWithoutRender")
	if err != nil {
		return err
	}
	extensions, err := r.Strings("extensions")
	if err != nil {
		return err
	}
	work, home, cleanup, err := cookiecutterTool.prepare(a, r)
	if err != nil {
		return err
	}
	defer cleanup()
	ws := Workspace{Dir: work}
	if _, err := FetchPlain(ws, src, filepath.Join("template", cookiecutterContents)); err != nil {
		return inputError("steps.%s.input.url: %v", r.In.StepID, err)
	}
	spec := map[string]any{}
	specPath := filepath.Join(work, "template", "cookiecutter.json")
	if raw, err := os.ReadFile(filepath.Join(work, "template", cookiecutterContents, "cookiecutter.json")); err == nil {
		if err := json.Unmarshal(raw, &spec); err != nil {
			return inputError("steps.%s.input.url: %s/cookiecutter.json: %v", r.In.StepID, src, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for k, v := range values {
		spec[k] = v
	}
	if copyWithout != nil {
		spec["_copy_without_render"] = copyWithout
	}
	if extensions != nil {
		spec["_extensions"] = extensions
	}
	raw, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(specPath, raw, 0o644); err != nil {
		return err
	}
	if err := cookiecutterTool.run(ctx, a, r, "cookiecutter", "cookiecutter --no-input --verbose -o out template", work, home, CookiecutterTimeout); err != nil {
		return err
	}
	made, err := os.ReadDir(filepath.Join(work, "out"))
	if err != nil || len(made) != 1 || !made[0].IsDir() {
		return inputError("steps.%s: cookiecutter made %d entries in its output, want one folder", r.In.StepID, len(made))
	}
	files, err := FetchPlain(r.Workspace, filepath.Join(work, "out", made[0].Name()), target)
	if err != nil {
		return inputError("steps.%s.input.targetPath: %v", r.In.StepID, err)
	}
	r.Logf("Cookiecutter rendered %d files into %s", len(files), orDot(target))
	return nil
}
