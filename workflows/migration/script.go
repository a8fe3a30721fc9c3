package migration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// ErrScriptTimeout is the error of a change script killed at its timeout.
var ErrScriptTimeout = errors.New("change script timed out")

// ScriptError is a change script that failed: its exit or timeout, and the
// end of its combined output.
type ScriptError struct {
	Err    error
	Output string
}

// Error says how the script ended.
func (e *ScriptError) Error() string { return "change script: " + e.Err.Error() }

// Unwrap returns how the script ended (ErrScriptTimeout on a timeout).
func (e *ScriptError) Unwrap() error { return e.Err }

// scripts returns the activities' script runner, made on first use from
// a.Sandbox: a bubblewrap sandbox, or an error (sandbox.ErrUnavailable)
// where bwrap is unavailable and a.Sandbox.Insecure is not set.
func (a *Activities) scripts(ctx context.Context) (*sandbox.Runner, error) {
	a.once.Do(func() {
		cfg := a.Sandbox
		if cfg.Limits.Output <= 0 {
			cfg.Limits.Output = ScriptOutputCap
		}
		a.runner, a.runnerErr = sandbox.New(context.WithoutCancel(ctx), cfg)
	})
	return a.runner, a.runnerErr
}

// CheckScripts makes the script runner now, as a worker starts: it returns
// why scripts cannot run (bubblewrap unavailable and insecure scripts not
// allowed), and whether they run sandboxed.
func (a *Activities) CheckScripts(ctx context.Context) (sandboxed bool, err error) {
	r, err := a.scripts(ctx)
	if err != nil {
		return false, err
	}
	return r.Sandboxed(), nil
}

// ScriptOutputCap is how much of a script's combined output the sandbox
// keeps before truncating it with a marker; OutputTail of it is reported.
const ScriptOutputCap = 1 << 20

// runScript runs script with sh -c in the sandbox: dir is the checkout (the
// one folder it writes besides home), env its BACKLOT_ variables (plus
// PATH, HOME and LANG), network whether it asks for the network, under
// timeout: at the timeout the whole sandbox is killed. It returns the last
// OutputTail bytes of its combined output; a failure is a *ScriptError.
func runScript(ctx context.Context, r *sandbox.Runner, dir, home, script string, env []string, network bool, timeout time.Duration) (string, error) {
	res, err := r.Run(ctx, sandbox.Spec{Script: script, Dir: dir, Home: home, Env: env, Network: network, Timeout: timeout})
	out := res.Output
	if len(out) > OutputTail {
		out = out[len(out)-OutputTail:]
	}
	var ee *sandbox.ExitError
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, sandbox.ErrTimeout):
		return out, &ScriptError{Err: fmt.Errorf("%w after %s", ErrScriptTimeout, timeout), Output: out}
	case errors.As(err, &ee):
		return out, &ScriptError{Err: ee.Err, Output: out}
	case errors.Is(err, sandbox.ErrNetworkRefused):
		return out, &ScriptError{Err: err, Output: out}
	}
	return out, err
}

// beatEvery is how often a running script heartbeats.
const beatEvery = 5 * time.Second

// gitEnv is the environment git runs with: no user or system configuration,
// no prompts, Backlot as author and committer.
var gitEnv = []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
	"GIT_AUTHOR_NAME=Backlot", "GIT_AUTHOR_EMAIL=backlot@localhost", "GIT_COMMITTER_NAME=Backlot", "GIT_COMMITTER_EMAIL=backlot@localhost"}

// git runs git in dir and returns its trimmed output; an error carries
// git's message.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	return gitAuth(ctx, dir, nil, args...)
}

// gitAuth is git with extra environment: the credentials of a remote, as
// configuration in the environment, so they appear in no argument or
// message.
func gitAuth(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), gitEnv...), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(out.String()), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
