package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrUnavailable is the error of New when bubblewrap is missing or fails
// its self-test and insecure scripts are not allowed.
var ErrUnavailable = errors.New("sandbox: bubblewrap (bwrap) is unavailable: install the bubblewrap package, or start the worker with --insecure-scripts to run scripts without isolation")

// ErrTimeout is the error of a script killed at its wall-time limit.
var ErrTimeout = errors.New("script timed out")

// ErrNetworkRefused is the error of a Spec that asks for the network when
// the Config does not allow it.
var ErrNetworkRefused = errors.New("sandbox: the script asks for the network, and this worker does not allow it")

// TruncatedMarker is written in place of the output dropped beyond
// Limits.Output.
const TruncatedMarker = "\n[backlot: output truncated]\n"

// The default limits of a script.
const (
	// DefaultCPUTime is the CPU time a script may use.
	DefaultCPUTime = 5 * time.Minute
	// DefaultMemory is the address space of each process, in bytes.
	DefaultMemory = 2 << 30
	// DefaultProcesses is how many processes the script may run at once.
	DefaultProcesses = 256
	// DefaultOpenFiles is how many files each process may hold open.
	DefaultOpenFiles = 1024
	// DefaultOutput is how many bytes of combined output are kept.
	DefaultOutput = 1 << 20
)

// Limits bound a script; a zero field is its default.
type Limits struct {
	// CPUTime is the CPU time of each process (RLIMIT_CPU), rounded up to
	// whole seconds.
	CPUTime time.Duration
	// Memory is the address space of each process in bytes (RLIMIT_AS).
	Memory int64
	// Processes is the number of processes of the sandbox's user
	// (RLIMIT_NPROC) and, where the worker may write a pids cgroup, of the
	// script's own cgroup (pids.max), which also holds for a root worker.
	Processes int
	// OpenFiles is the number of open files of each process (RLIMIT_NOFILE).
	OpenFiles int
	// Output is how many bytes of combined output are kept; the rest is
	// dropped and TruncatedMarker appended.
	Output int
}

func (l Limits) withDefaults() Limits {
	if l.CPUTime <= 0 {
		l.CPUTime = DefaultCPUTime
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.Processes <= 0 {
		l.Processes = DefaultProcesses
	}
	if l.OpenFiles <= 0 {
		l.OpenFiles = DefaultOpenFiles
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	return l
}

// Config configures New.
type Config struct {
	// Bwrap is the bubblewrap binary; empty looks up "bwrap" in PATH.
	Bwrap string
	// Insecure lets scripts run without isolation when bubblewrap is
	// unavailable (the worker's --insecure-scripts).
	Insecure bool
	// AllowNetwork lets a Spec that asks for the network have it.
	AllowNetwork bool
	// Limits are the limits of every script; a zero field is its default.
	Limits Limits
	// ReadOnly are more host folders scripts may read (tools, say), each
	// bound read-only at the same path.
	ReadOnly []string
}

// Spec is one script to run.
type Spec struct {
	// Script is run with sh -c.
	Script string
	// Dir is the checkout: the script's working folder, the one folder it
	// may write besides Home. Inside the sandbox it is /work/repo.
	Dir string
	// Home is a scratch folder, the script's HOME (/work/home inside).
	Home string
	// Env holds the documented variables, each NAME=value with a NAME that
	// begins with BACKLOT_; any other is refused.
	Env []string
	// Network asks for the host's network.
	Network bool
	// Timeout is the wall-time limit; zero is the context's alone.
	Timeout time.Duration
}

// TmpSize is the size of the sandbox's /tmp, a tmpfs of its own.
const TmpSize = 256 << 20

// The paths of the checkout and the home inside the sandbox.
const (
	InsideDir  = "/work/repo"
	InsideHome = "/work/home"
)

// Runner runs scripts, sandboxed unless it is Insecure.
type Runner struct {
	bwrap   string
	prlimit string
	// pids is the pids cgroup folder each run gets a child of; "" when the
	// worker may write none (see cgroup.go).
	pids   string
	cfg    Config
	limits Limits
}

// New finds bubblewrap and self-tests it by running a script in a sandbox.
// Where bwrap is missing or fails, New returns ErrUnavailable (wrapping why)
// unless cfg.Insecure is set: then the Runner runs scripts directly.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	r := &Runner{cfg: cfg, limits: cfg.Limits.withDefaults(), pids: findPidsCgroup()}
	r.prlimit, _ = exec.LookPath("prlimit")
	bw := cfg.Bwrap
	if bw == "" {
		bw = "bwrap"
	}
	err := r.selfTest(ctx, bw)
	if err == nil {
		return r, nil
	}
	if cfg.Insecure {
		r.bwrap = ""
		return r, nil
	}
	return nil, fmt.Errorf("%w (%v)", ErrUnavailable, err)
}

// selfTest runs "id -u" in a sandbox and expects 65534.
func (r *Runner) selfTest(ctx context.Context, bw string) error {
	path, err := exec.LookPath(bw)
	if err != nil {
		return err
	}
	if r.prlimit == "" {
		return errors.New("prlimit (util-linux) is missing: the limits of a script cannot be set")
	}
	r.bwrap = path
	dir, err := os.MkdirTemp("", "backlot-sandbox-selftest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"repo", "home"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := r.Run(tctx, Spec{Script: "id -u && touch ok", Dir: filepath.Join(dir, "repo"), Home: filepath.Join(dir, "home")})
	if err != nil {
		r.bwrap = ""
		return fmt.Errorf("self-test: %v: %s", err, strings.TrimSpace(res.Output))
	}
	if strings.TrimSpace(res.Output) != "65534" {
		r.bwrap = ""
		return fmt.Errorf("self-test: the script ran as uid %q, not 65534", strings.TrimSpace(res.Output))
	}
	if _, err := os.Stat(filepath.Join(dir, "repo", "ok")); err != nil {
		r.bwrap = ""
		return fmt.Errorf("self-test: the script could not write its checkout: %v", err)
	}
	return nil
}

// Sandboxed reports whether scripts run in bubblewrap (false: insecure).
func (r *Runner) Sandboxed() bool { return r.bwrap != "" }

// Result is how a script ended.
type Result struct {
	// Output is the combined output, at most Limits.Output bytes and then
	// TruncatedMarker.
	Output string
	// Truncated is set when output was dropped.
	Truncated bool
}

// ExitError is a script that ran and failed: its exit status or signal.
type ExitError struct{ Err error }

// Error says how the script ended.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// Run runs spec.Script and returns its output. A script that exits non-zero
// or is killed by a limit is an *ExitError; one killed at spec.Timeout
// wraps ErrTimeout; a cancelled ctx returns ctx's error. The whole sandbox
// (every process of the script) is killed when Run returns early.
func (r *Runner) Run(ctx context.Context, spec Spec) (Result, error) {
	if spec.Network && !r.cfg.AllowNetwork {
		return Result{}, ErrNetworkRefused
	}
	env, err := cleanEnv(spec.Env)
	if err != nil {
		return Result{}, err
	}
	if spec.Dir == "" || spec.Home == "" {
		return Result{}, errors.New("sandbox: a spec without a checkout (Dir) or a home (Home)")
	}
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if spec.Timeout > 0 {
		sctx, cancel = context.WithTimeout(ctx, spec.Timeout)
	}
	defer cancel()
	var cgroup string
	if r.pids != "" {
		if cgroup, err = newRunCgroup(r.pids, r.limits.Processes); err != nil {
			return Result{}, err
		}
		defer removeRunCgroup(cgroup)
	}
	cmd := r.command(sctx, spec, env, cgroup)
	out := &capped{n: r.limits.Output}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	ownGroup(cmd)
	err = cmd.Run()
	res := Result{Output: out.String(), Truncated: out.dropped}
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, ctx.Err()
	case errors.Is(sctx.Err(), context.DeadlineExceeded):
		return res, fmt.Errorf("%w after %s", ErrTimeout, spec.Timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return res, &ExitError{Err: err}
	}
	return res, err
}

// command builds the process: bwrap (under prlimit) with a clean
// environment, or sh directly when insecure; moved first into the run's pids
// cgroup when it has one.
func (r *Runner) command(ctx context.Context, spec Spec, env []string, cgroup string) *exec.Cmd {
	l := r.limits
	var args []string
	if r.prlimit != "" {
		cpu := int64((l.CPUTime + time.Second - 1) / time.Second)
		args = append(args, r.prlimit,
			"--cpu="+strconv.FormatInt(cpu, 10),
			"--as="+strconv.FormatInt(l.Memory, 10),
			"--nproc="+strconv.Itoa(l.Processes),
			"--nofile="+strconv.Itoa(l.OpenFiles))
	}
	home := spec.Home
	path := "/usr/local/bin:/usr/bin:/bin"
	if r.bwrap != "" {
		args = append(args, r.bwrap,
			"--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
			"--uid", "65534", "--gid", "65534",
			"--proc", "/proc", "--dev", "/dev",
			"--size", strconv.Itoa(TmpSize), "--tmpfs", "/tmp")
		if spec.Network {
			args = append(args, "--share-net")
		}
		for _, p := range []string{"/usr", "/bin", "/lib", "/lib64", "/sbin"} {
			args = append(args, roBind(p)...)
		}
		for _, p := range etcFiles {
			args = append(args, roBind("/etc/"+p)...)
		}
		for _, p := range r.cfg.ReadOnly {
			args = append(args, "--ro-bind", p, p)
		}
		args = append(args, "--bind", spec.Dir, InsideDir, "--bind", spec.Home, InsideHome,
			"--remount-ro", "/", "--chdir", InsideDir, "--clearenv")
		home = InsideHome
		for _, kv := range append(env, "PATH="+path, "HOME="+home, "LANG=C.UTF-8") {
			k, v, _ := strings.Cut(kv, "=")
			args = append(args, "--setenv", k, v)
		}
		args = append(args, "--", "sh", "-c", spec.Script)
	} else {
		args = append(args, "sh", "-c", spec.Script)
	}
	if cgroup != "" {
		args = intoCgroup(cgroup, args)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if r.bwrap == "" {
		cmd.Dir = spec.Dir
	}
	// bwrap itself holds only this environment too: the sandbox's pid 1 is
	// bwrap, and its environ is readable from inside.
	cmd.Env = append(append([]string{}, env...), "PATH="+path, "HOME="+home, "LANG=C.UTF-8")
	return cmd
}

// etcFiles are what a shell, git and common tools need of /etc, bound
// read-only; the rest of /etc is not there. The sandbox's user maps to the
// worker's, which owns (and so may read) root's files when the worker runs
// as root: /etc/shadow and private keys stay out.
var etcFiles = []string{"passwd", "group", "hosts", "resolv.conf", "nsswitch.conf", "host.conf", "services", "protocols",
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "alternatives", "ssl/certs", "ca-certificates",
	"ca-certificates.conf", "mime.types", "inputrc", "profile", "bash.bashrc", "environment", "os-release"}

// roBind binds p read-only at the same place; a symbolic link (/bin to
// usr/bin on merged-/usr systems) is recreated as the same link, and a
// missing path is left out.
func roBind(p string) []string {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		if t, err := os.Readlink(p); err == nil {
			return []string{"--symlink", t, p}
		}
		return nil
	}
	return []string{"--ro-bind", p, p}
}

// cleanEnv checks that every variable is a BACKLOT_ one.
func cleanEnv(env []string) ([]string, error) {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "BACKLOT_") {
			return nil, fmt.Errorf("sandbox: environment variable %q: only BACKLOT_ variables reach a script", k)
		}
		out = append(out, kv)
	}
	return out, nil
}

// capped keeps the first n bytes written to it and notes the rest dropped;
// it is safe for concurrent use.
type capped struct {
	mu      sync.Mutex
	n       int
	b       bytes.Buffer
	dropped bool
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.n - c.b.Len(); room < len(p) {
		if room > 0 {
			c.b.Write(p[:room])
		}
		c.dropped = true
		return len(p), nil
	}
	c.b.Write(p)
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped {
		return c.b.String() + TruncatedMarker
	}
	return c.b.String()
}
