package scaffolder

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// railsTool is the rails program fetch:rails runs.
var railsTool = sandboxedTool{Action: "fetch:rails", Program: "rails", Needs: "rails", Install: "apt-get install ruby-railties bundler"}

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
	src, target, values, err := sandboxedInputs(r)
	if err != nil {
		return err
	}
	name, _ := values["name"].(string)
	if !railsName.MatchString(name) {
		return inputError("steps.%s.input.values.name: %q; give the application's name (letters, digits, - and _)", r.In.StepID, name)
	}
	argsIn, _ := values["railsArguments"].(map[string]any)
	work, home, cleanup, err := railsTool.prepare(a, r)
	if err != nil {
		return err
	}
	defer cleanup()
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
	if err := railsTool.run(ctx, a, r, "rails new", script, work, home, RailsTimeout); err != nil {
		return err
	}
	files, err := FetchPlain(r.Workspace, filepath.Join(work, "backlot-rails-out", name), target)
	if err != nil {
		return inputError("steps.%s.input.targetPath: %v", r.In.StepID, err)
	}
	r.Logf("rails new %s made %d files in %s (%s)", name, len(files), orDot(target), strings.Join(args, " "))
	return nil
}
