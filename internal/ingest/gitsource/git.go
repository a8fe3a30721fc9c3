package gitsource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// gitConfig is passed to every git command. Global and system configuration are
// not read at all (see gitEnv), so these are the only settings besides git's
// defaults and the cache repository's own config.
var gitConfig = []string{
	// A redirect could lead to a host that is not allowed.
	"-c", "http.followRedirects=false",
	// No credential helper, no password prompt program: a remote that asks for
	// credentials fails at once.
	"-c", "credential.helper=",
	"-c", "core.askPass=",
	// The cache repositories have no hooks; make sure none ever run.
	"-c", "core.hooksPath=" + os.DevNull,
	// Automatic housekeeping runs in the foreground, so no git process outlives
	// the call (and the Timeout covers it).
	"-c", "gc.autoDetach=false",
	"-c", "maintenance.autoDetach=false",
	// Keep a commit-graph up to date so that log -- path walks history quickly.
	"-c", "fetch.writeCommitGraph=true",
	"-c", "protocol.version=2",
}

// inheritedEnv lists the environment variables git may see from this process: what
// it needs to find programs, temporary space, proxies and CA certificates. Anything
// else (GIT_DIR, GIT_CONFIG_*, GIT_ASKPASS, SSH_ASKPASS, ...) is dropped.
var inheritedEnv = map[string]bool{
	"PATH": true, "HOME": true, "TMPDIR": true, "SYSTEMROOT": true, "GIT_EXEC_PATH": true,
	"http_proxy": true, "https_proxy": true, "all_proxy": true, "no_proxy": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "ALL_PROXY": true, "NO_PROXY": true,
	"GIT_SSL_CAINFO": true, "GIT_SSL_CAPATH": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true,
	"CURL_CA_BUNDLE": true,
}

// gitEnv returns the environment of a git command that may use only the transport
// protocol proto (https, http or file; "none" for commands without a remote).
func gitEnv(proto string) []string {
	env := make([]string, 0, 32)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); inheritedEnv[k] {
			env = append(env, kv)
		}
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL="+proto,
		"GIT_PROTOCOL_FROM_USER=0",
		"GIT_LITERAL_PATHSPECS=1",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_NO_LAZY_FETCH=1",
		"LC_ALL=C",
		"LANGUAGE=C",
	)
}

// protoNone is the GIT_ALLOW_PROTOCOL value of commands that must not reach any
// remote.
const protoNone = "none"

// waitDelay bounds how long a killed git command's output pipes are waited for.
const waitDelay = 2 * time.Second

// maxStderr is how much of a git command's standard error is kept for messages.
const maxStderr = 8 << 10

// gitError is a failed git command: its subcommand, what it printed on standard
// error, and the cause (the context's error when the context ended).
type gitError struct {
	Op     string
	Stderr string
	Err    error
}

// Error names the subcommand, the cause and git's message.
func (e *gitError) Error() string {
	msg := "gitsource: git " + e.Op + ": " + e.Err.Error()
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *gitError) Unwrap() error { return e.Err }

// run runs git with args in the repository gitDir ("" for none), allowing only the
// transport protocol proto, and writes its standard output to stdout (discarded
// when nil). It kills git's whole process group when ctx ends.
func (r *Reader) run(ctx context.Context, gitDir, proto string, stdout io.Writer, args ...string) error {
	return r.runConfig(ctx, gitDir, proto, nil, stdout, args...)
}

// runRemote runs git like run for a command that contacts rp's remote, with
// the remote's addresses pinned to those checkAddresses allowed.
func (r *Reader) runRemote(ctx context.Context, rp repo, stdout io.Writer, args ...string) error {
	return r.runConfig(ctx, rp.dir, rp.proto, rp.pin, stdout, args...)
}

// outputRemote runs git like runRemote and returns its standard output, at
// most max bytes.
func (r *Reader) outputRemote(ctx context.Context, rp repo, max int64, args ...string) ([]byte, error) {
	out := &cappedBuffer{max: max}
	if err := r.runRemote(ctx, rp, out, args...); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// runConfig runs git like run, with the settings config ("-c", "k=v", ...)
// after gitConfig.
func (r *Reader) runConfig(ctx context.Context, gitDir, proto string, config []string, stdout io.Writer, args ...string) error {
	full := make([]string, 0, len(gitConfig)+len(config)+1+len(args))
	full = append(full, gitConfig...)
	full = append(full, config...)
	if gitDir != "" {
		full = append(full, "--git-dir="+gitDir)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, r.gitPath, full...)
	cmd.Env = gitEnv(proto)
	cmd.Dir = r.opts.CacheDir
	cmd.Stdout = stdout
	stderr := &cappedBuffer{max: maxStderr, truncate: true}
	cmd.Stderr = stderr
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return &gitError{Op: args[0], Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return nil
}

// output runs git like run and returns its standard output, at most max bytes.
func (r *Reader) output(ctx context.Context, gitDir, proto string, max int64, args ...string) ([]byte, error) {
	out := &cappedBuffer{max: max}
	if err := r.run(ctx, gitDir, proto, out, args...); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// errOutputTooLarge stops a git command that writes more than expected.
var errOutputTooLarge = errors.New("output over the expected size")

// cappedBuffer is a bytes.Buffer that holds at most max bytes. Past that it fails
// the write, or, with truncate, silently drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max      int64
	truncate bool
}

// Write appends p, up to the cap.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.Len())
	if int64(len(p)) <= room {
		return b.Buffer.Write(p)
	}
	if !b.truncate {
		return 0, errOutputTooLarge
	}
	if room > 0 {
		b.Buffer.Write(p[:room])
	}
	return len(p), nil
}
