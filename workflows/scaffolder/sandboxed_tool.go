package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// sandboxedTool is a program a fetch action runs from the worker in the
// scripts' sandbox (fetch:cookiecutter, fetch:rails): the checks before the
// run, the scratch folders it runs in, and how its failure is reported are
// the same for each.
type sandboxedTool struct {
	// Action is the action's id, as errors name it: fetch:rails.
	Action string
	// Program is the executable looked up on the worker's PATH: rails.
	Program string
	// Needs is how the missing-program error names it: "the cookiecutter
	// program", or "rails".
	Needs string
	// Install says how to install it on the worker.
	Install string
}

// sandboxedInputs reads the inputs fetch:cookiecutter and fetch:rails share:
// input.url (the folder beside the template), input.targetPath and
// input.values.
func sandboxedInputs(r *Run) (src, target string, values map[string]any, err error) {
	if src, err = source(r); err != nil {
		return "", "", nil, err
	}
	if target, err = r.String("targetPath"); err != nil {
		return "", "", nil, err
	}
	if values, err = r.Object("values"); err != nil {
		return "", "", nil, err
	}
	return src, target, values, nil
}

// prepare logs that input.imageName is not used, checks that the program
// and the sandbox are on the worker, and makes the scratch folder the run
// happens in: work (the run's folder) and home (its $HOME). cleanup removes
// the scratch folder; it is set only when err is nil.
func (t sandboxedTool) prepare(a *Activities, r *Run) (work, home string, cleanup func(), err error) {
	if img, _ := r.String("imageName"); img != "" {
		r.Logf("imageName %s is not used: Backlot runs %s from the worker, in its sandbox, not in a container", img, t.Program)
	}
	if _, err := exec.LookPath(t.Program); err != nil {
		return "", "", nil, inputError("steps.%s: %s needs %s on the worker (%s)", r.In.StepID, t.Action, t.Needs, t.Install)
	}
	if a.Sandbox == nil {
		return "", "", nil, inputError("steps.%s: %s runs %s in the scripts' sandbox, and this worker has none (install bubblewrap, or start it with --insecure-scripts)", r.In.StepID, t.Action, t.Program)
	}
	scratch, err := os.MkdirTemp("", "backlot-"+t.Program+"-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { os.RemoveAll(scratch) }
	work, home = filepath.Join(scratch, "work"), filepath.Join(scratch, "home")
	for _, d := range []string{work, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			cleanup()
			return "", "", nil, err
		}
	}
	return work, home, cleanup, nil
}

// run runs script in the sandbox in work, with home as $HOME, for at most
// timeout. When the script fails, the error (an input error) names the
// command as what and quotes the last line it wrote; an error of the
// sandbox itself is returned wrapped.
func (t sandboxedTool) run(ctx context.Context, a *Activities, r *Run, what, script, work, home string, timeout time.Duration) error {
	res, runErr := a.Sandbox.Run(ctx, sandbox.Spec{Script: script, Dir: work, Home: home, Timeout: timeout})
	var last string
	for _, l := range strings.Split(res.Output, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			last = l
		}
	}
	var ee *sandbox.ExitError
	if errors.As(runErr, &ee) {
		return inputError("steps.%s: %s failed (%v): %s", r.In.StepID, what, ee, last)
	}
	if runErr != nil {
		return fmt.Errorf("steps.%s: %s: %w", r.In.StepID, what, runErr)
	}
	return nil
}
