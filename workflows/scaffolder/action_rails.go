package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// RailsTimeout bounds one rails new run.
const RailsTimeout = 5 * time.Minute

// railsName is what fetch:rails accepts as the application's name.
var railsName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// railsArgs turns values.railsArguments into rails new's flags, as
// Backstage's module does (the flags it passes, and only those); root is
// the folder a template path of ./ starts from. --skip-bundle is always
// passed: bundle install needs the network, which the sandbox does not give;
// so is --skip-git: the task's workspace is published as one repository, and
// a repository rails new made inside it would be committed as an empty
// submodule (git refuses to add it).
func railsArgs(r *Run, args map[string]any, root string) ([]string, error) {
	var out []string
	flag := func(name, f string) {
		if b, _ := args[name].(bool); b {
			out = append(out, f)
		}
	}
	flag("minimal", "--minimal")
	flag("api", "--api")
	out = append(out, "--skip-bundle", "--skip-git")
	flag("skipWebpackInstall", "--skip-webpack-install")
	flag("skipTest", "--skip-test")
	flag("force", "--force")
	pick := func(name, f string, allowed ...string) error {
		v, _ := args[name].(string)
		if v == "" {
			return nil
		}
		for _, a := range allowed {
			if v == a {
				if f != "" {
					out = append(out, f, v)
				} else if v != "fromImage" {
					out = append(out, "--"+v)
				}
				return nil
			}
		}
		return inputError("steps.%s.input.values.railsArguments.%s: %q; give one of %s", r.In.StepID, name, v, strings.Join(allowed, ", "))
	}
	if err := pick("webpacker", "--webpack", "react", "vue", "angular", "elm", "stimulus"); err != nil {
		return nil, err
	}
	if err := pick("database", "--database", "mysql", "postgresql", "sqlite3", "oracle", "sqlserver", "jdbcmysql", "jdbcsqlite3", "jdbcpostgresql", "jdbc"); err != nil {
		return nil, err
	}
	if err := pick("railsVersion", "", "dev", "edge", "master", "fromImage"); err != nil {
		return nil, err
	}
	if t, _ := args["template"].(string); t != "" {
		if strings.Contains(t, "://") || filepath.IsAbs(t) || !filepath.IsLocal(filepath.Clean(t)) {
			return nil, inputError("steps.%s.input.values.railsArguments.template: %q; give a path inside the fetched folder (./template.rb)", r.In.StepID, t)
		}
		out = append(out, "--template", root+"/"+strings.TrimPrefix(filepath.ToSlash(filepath.Clean(t)), "./"))
	}
	return out, nil
}

// fetchRails is fetch:rails: the folder at input.url (beside the template)
// is fetched and rails new makes the application values.name from it with
// values.railsArguments, in the scripts' sandbox (an application template
// is Ruby code), without the network; the application is copied into
// input.targetPath.
func fetchRails(ctx context.Context, a *Activities, r *Run) error {
	src, err := source(r)
	if err != nil {
		return err
	}
	target, err := r.String("targetPath")
	if err != nil {
		return err
	}
	values, err := r.Object("values")
	if err != nil {
		return err
	}
	name, _ := values["name"].(string)
	if !railsName.MatchString(name) {
		return inputError("steps.%s.input.values.name: %q; give the application's name (letters, digits, - and _)", r.In.StepID, name)
	}
	argsIn, _ := values["railsArguments"].(map[string]any)
	if img, _ := r.String("imageName"); img != "" {
		r.Logf("imageName %s is not used: Backlot runs rails from the worker, in its sandbox, not in a container", img)
	}
	if _, err := exec.LookPath("rails"); err != nil {
		return inputError("steps.%s: fetch:rails needs rails on the worker (apt-get install ruby-railties bundler)", r.In.StepID)
	}
	if a.Sandbox == nil {
		return inputError("steps.%s: fetch:rails runs rails in the scripts' sandbox, and this worker has none (install bubblewrap, or start it with --insecure-scripts)", r.In.StepID)
	}
	scratch, err := os.MkdirTemp("", "backlot-rails-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	work, home := filepath.Join(scratch, "work"), filepath.Join(scratch, "home")
	for _, d := range []string{work, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if _, err := FetchPlain(Workspace{Dir: work}, src, ""); err != nil {
		return inputError("steps.%s.input.url: %v", r.In.StepID, err)
	}
	root := sandbox.InsideDir
	if !a.Sandbox.Sandboxed() {
		root = work
	}
	args, err := railsArgs(r, argsIn, root)
	if err != nil {
		return err
	}
	script := "rails new " + shellQuote(append([]string{"backlot-rails-out/" + name}, args...))
	res, runErr := a.Sandbox.Run(ctx, sandbox.Spec{Script: script, Dir: work, Home: home, Timeout: RailsTimeout})
	var last string
	for _, l := range strings.Split(res.Output, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			last = l
		}
	}
	var ee *sandbox.ExitError
	if errors.As(runErr, &ee) {
		return inputError("steps.%s: rails new failed (%v): %s", r.In.StepID, ee, last)
	}
	if runErr != nil {
		return fmt.Errorf("steps.%s: rails new: %w", r.In.StepID, runErr)
	}
	files, err := FetchPlain(r.Workspace, filepath.Join(work, "backlot-rails-out", name), target)
	if err != nil {
		return inputError("steps.%s.input.targetPath: %v", r.In.StepID, err)
	}
	r.Logf("rails new %s made %d files in %s (%s)", name, len(files), orDot(target), strings.Join(args, " "))
	return nil
}
