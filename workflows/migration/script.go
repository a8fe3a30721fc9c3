package migration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
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

// tail keeps the last n bytes written to it; it is safe for concurrent use.
type tail struct {
	mu sync.Mutex
	n  int
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.n {
		t.b = append(t.b[:0], t.b[len(t.b)-t.n:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// runScript runs script with sh -c in dir, with env plus PATH and HOME
// (home), under timeout: at the timeout its whole process group is killed.
// beat, when set, is called every beatEvery while it runs. It returns the
// last OutputTail bytes of its combined output; a failure is a *ScriptError.
func runScript(ctx context.Context, dir, home, script string, env []string, timeout time.Duration, beat func()) (string, error) {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(sctx, "sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), "PATH="+os.Getenv("PATH"), "HOME="+home)
	out := &tail{n: OutputTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return "", &ScriptError{Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(beatEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			switch {
			case err == nil:
				return out.String(), nil
			case errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
				return out.String(), &ScriptError{Err: fmt.Errorf("%w after %s", ErrScriptTimeout, timeout), Output: out.String()}
			case ctx.Err() != nil:
				return out.String(), ctx.Err()
			}
			return out.String(), &ScriptError{Err: err, Output: out.String()}
		case <-tick.C:
			if beat != nil {
				beat()
			}
		}
	}
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
