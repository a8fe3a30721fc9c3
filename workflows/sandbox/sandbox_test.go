package sandbox_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// newRunner is a sandboxed Runner: the test setup installs bubblewrap, so
// its absence fails the test.
func newRunner(t *testing.T, cfg sandbox.Config) *sandbox.Runner {
	t.Helper()
	r, err := sandbox.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !r.Sandboxed() {
		t.Fatal("the runner is not sandboxed")
	}
	return r
}

// folders makes a checkout and a home.
func folders(t *testing.T) (dir, home string) {
	t.Helper()
	root := t.TempDir()
	dir, home = filepath.Join(root, "repo"), filepath.Join(root, "home")
	for _, d := range []string{dir, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, home
}

func run(t *testing.T, r *sandbox.Runner, script string, env ...string) (sandbox.Result, error) {
	t.Helper()
	dir, home := folders(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return r.Run(ctx, sandbox.Spec{Script: script, Dir: dir, Home: home, Env: env, Timeout: 30 * time.Second})
}

const secret = "s3cret-of-the-worker"

func TestEnvironmentHoldsOnlyTheDocumentedVariables(t *testing.T) {
	t.Setenv("BACKLOT_SECRETS_KEY", secret)
	t.Setenv("GITHUB_TOKEN", secret)
	r := newRunner(t, sandbox.Config{})
	res, err := run(t, r, "env", "BACKLOT_ENTITY_REF=component:default/a")
	if err != nil {
		t.Fatalf("env: %v: %s", err, res.Output)
	}
	if strings.Contains(res.Output, secret) {
		t.Fatalf("the script saw the worker's environment:\n%s", res.Output)
	}
	allowed := map[string]bool{"PATH": true, "HOME": true, "LANG": true, "PWD": true, "SHLVL": true, "_": true, "OLDPWD": true}
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.Output), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if !allowed[k] && !strings.HasPrefix(k, "BACKLOT_") {
			t.Errorf("undocumented variable %s in the script's environment", line)
		}
		seen[k] = v
	}
	if seen["BACKLOT_ENTITY_REF"] != "component:default/a" || seen["HOME"] != sandbox.InsideHome || seen["LANG"] == "" || seen["PATH"] == "" {
		t.Errorf("environment = %v, want BACKLOT_ENTITY_REF, HOME, LANG and PATH", seen)
	}
	if _, ok := seen["BACKLOT_SECRETS_KEY"]; ok {
		t.Error("a BACKLOT_ variable of the worker reached the script")
	}
}

func TestOtherProcessesEnvironmentIsUnreadable(t *testing.T) {
	t.Setenv("BACKLOT_SECRETS_KEY", secret)
	r := newRunner(t, sandbox.Config{})
	res, _ := run(t, r, `cat /proc/1/environ; echo; cat /proc/$PPID/environ; echo; for f in /proc/[0-9]*/environ; do cat "$f"; echo; done; echo pids: $(ls -d /proc/[0-9]* | wc -l)`)
	if strings.Contains(res.Output, secret) {
		t.Fatalf("the script read the worker's environment:\n%s", res.Output)
	}
	i := strings.Index(res.Output, "pids: ")
	if i < 0 {
		t.Fatalf("no pid count in %q", res.Output)
	}
	n, err := strconv.Atoi(strings.TrimSpace(res.Output[i+6:]))
	if err != nil || n > 6 {
		t.Fatalf("the script sees %q processes, want only its own few", res.Output[i+6:])
	}
}

func TestRunsAsNobodyAndWritesLandInTheCheckoutAsTheWorker(t *testing.T) {
	r := newRunner(t, sandbox.Config{})
	dir, home := folders(t)
	res, err := r.Run(context.Background(), sandbox.Spec{Script: "id -u; id -g; pwd; echo hi > f; mkdir d; echo x > d/y; touch $HOME/h", Dir: dir, Home: home})
	if err != nil {
		t.Fatalf("run: %v: %s", err, res.Output)
	}
	if want := "65534\n65534\n" + sandbox.InsideDir + "\n"; res.Output != want {
		t.Fatalf("output = %q, want %q", res.Output, want)
	}
	for _, p := range []string{filepath.Join(dir, "f"), filepath.Join(dir, "d", "y"), filepath.Join(home, "h")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("the script's write did not land: %v", err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Getuid() {
			t.Errorf("%s is owned by uid %d, want the worker's %d", p, uid, os.Getuid())
		}
	}
}

func TestWritesOutsideTheCheckoutFail(t *testing.T) {
	r := newRunner(t, sandbox.Config{})
	dir, home := folders(t)
	name := "backlot-sandbox-" + strconv.Itoa(os.Getpid())
	script := `touch /tmp/` + name + ` && echo tmp-inside; touch $HOME/../` + name + ` || echo home-parent-refused; touch /etc/` + name + ` || echo etc-refused; touch /usr/` + name + ` || echo usr-refused`
	res, err := r.Run(context.Background(), sandbox.Spec{Script: script, Dir: dir, Home: home})
	if err != nil {
		t.Fatalf("run: %v: %s", err, res.Output)
	}
	for _, want := range []string{"home-parent-refused", "etc-refused", "usr-refused"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %s:\n%s", want, res.Output)
		}
	}
	for _, p := range []string{filepath.Join(os.TempDir(), name), filepath.Join(filepath.Dir(home), name), "/etc/" + name, "/usr/" + name} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("the script wrote %s on the host", p)
		}
	}
}

func TestNoNetworkUnlessAskedAndAllowed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	script := `bash -c 'exec 3<>/dev/tcp/127.0.0.1/` + port + `' && echo connected || echo refused`
	r := newRunner(t, sandbox.Config{})
	res, err := run(t, r, script)
	if err != nil || !strings.Contains(res.Output, "refused") || strings.Contains(res.Output, "connected") {
		t.Fatalf("without network: %v: %s", err, res.Output)
	}
	if accepted.Load() != 0 {
		t.Fatal("the listener accepted a connection from the sandbox")
	}
	dir, home := folders(t)
	if _, err := r.Run(context.Background(), sandbox.Spec{Script: "true", Dir: dir, Home: home, Network: true}); !errors.Is(err, sandbox.ErrNetworkRefused) {
		t.Fatalf("network asked, not allowed: err = %v, want ErrNetworkRefused", err)
	}
	// The control: asked and allowed, the same script connects.
	open := newRunner(t, sandbox.Config{AllowNetwork: true})
	res, err = open.Run(context.Background(), sandbox.Spec{Script: script, Dir: dir, Home: home, Network: true})
	if err != nil || !strings.Contains(res.Output, "connected") {
		t.Fatalf("with network: %v: %s", err, res.Output)
	}
}

func TestForkBombIsBounded(t *testing.T) {
	r := newRunner(t, sandbox.Config{Limits: sandbox.Limits{Processes: 64}})
	dir, home := folders(t)
	start := time.Now()
	_, err := r.Run(context.Background(), sandbox.Spec{Script: `:(){ :|:& };:`, Dir: dir, Home: home, Timeout: 5 * time.Second})
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the fork bomb ran %s", took)
	}
	_ = err // it ends by its own failures or at the timeout: both bound it
	// The worker survives, and the sandbox's processes are gone.
	res, err := run(t, r, "echo alive")
	if err != nil || res.Output != "alive\n" {
		t.Fatalf("after the fork bomb: %v: %q", err, res.Output)
	}
}

func TestCPULoopIsKilledByTheCPULimit(t *testing.T) {
	r := newRunner(t, sandbox.Config{Limits: sandbox.Limits{CPUTime: time.Second}})
	dir, home := folders(t)
	start := time.Now()
	_, err := r.Run(context.Background(), sandbox.Spec{Script: `while :; do :; done`, Dir: dir, Home: home, Timeout: time.Minute})
	var ee *sandbox.ExitError
	if !errors.As(err, &ee) || errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("err = %v, want an ExitError from the CPU limit", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the CPU loop ran %s", took)
	}
}

func TestWallTimeout(t *testing.T) {
	r := newRunner(t, sandbox.Config{})
	dir, home := folders(t)
	_, err := r.Run(context.Background(), sandbox.Spec{Script: `sleep 60`, Dir: dir, Home: home, Timeout: 500 * time.Millisecond})
	if !errors.Is(err, sandbox.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestOutputBeyondTheCapIsTruncated(t *testing.T) {
	r := newRunner(t, sandbox.Config{Limits: sandbox.Limits{Output: 1000}})
	res, err := run(t, r, `yes backlot | head -c 100000`)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !res.Truncated || len(res.Output) != 1000+len(sandbox.TruncatedMarker) || !strings.HasSuffix(res.Output, sandbox.TruncatedMarker) {
		t.Fatalf("truncated %v, %d bytes ending %q", res.Truncated, len(res.Output), res.Output[max(0, len(res.Output)-40):])
	}
}

func TestOnlyBacklotVariablesAreAccepted(t *testing.T) {
	r := newRunner(t, sandbox.Config{})
	if _, err := run(t, r, "true", "LD_PRELOAD=/x.so"); err == nil || !strings.Contains(err.Error(), "LD_PRELOAD") {
		t.Fatalf("err = %v, want a refusal naming LD_PRELOAD", err)
	}
}

func TestWithoutBubblewrapTheRunnerRefusesUnlessInsecure(t *testing.T) {
	_, err := sandbox.New(context.Background(), sandbox.Config{Bwrap: "/nonexistent/bwrap"})
	if !errors.Is(err, sandbox.ErrUnavailable) || !strings.Contains(err.Error(), "--insecure-scripts") {
		t.Fatalf("err = %v, want ErrUnavailable naming --insecure-scripts", err)
	}
	t.Setenv("GITHUB_TOKEN", secret)
	r, err := sandbox.New(context.Background(), sandbox.Config{Bwrap: "/nonexistent/bwrap", Insecure: true})
	if err != nil || r.Sandboxed() {
		t.Fatalf("insecure: %v, sandboxed %v", err, r != nil && r.Sandboxed())
	}
	res, err := run(t, r, "env; echo done")
	if err != nil || !strings.Contains(res.Output, "done") || strings.Contains(res.Output, secret) {
		t.Fatalf("insecure run: %v: %s", err, res.Output)
	}
}

func TestReadOnlyFoldersAreReadableNotWritable(t *testing.T) {
	tools := t.TempDir()
	if err := os.WriteFile(filepath.Join(tools, "tool"), []byte("v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, sandbox.Config{ReadOnly: []string{tools}})
	res, err := run(t, r, "cat "+tools+"/tool; touch "+tools+"/x || echo refused")
	if err != nil || !strings.HasPrefix(res.Output, "v1\n") || !strings.Contains(res.Output, "refused") {
		t.Fatalf("%v: %s", err, res.Output)
	}
	if _, err := os.Stat(filepath.Join(tools, "x")); err == nil {
		t.Fatal("the script wrote into a read-only folder")
	}
}

func TestRootsFilesStayOutAndToolsWork(t *testing.T) {
	r := newRunner(t, sandbox.Config{})
	res, err := run(t, r, `cat /etc/shadow 2>/dev/null && echo read-shadow; ls /etc/ssl/private 2>/dev/null && echo listed-private; git --version >/dev/null && echo git-ok; echo a b | awk '{print $2}'; true`)
	if err != nil {
		t.Fatalf("run: %v: %s", err, res.Output)
	}
	if strings.Contains(res.Output, "read-shadow") || strings.Contains(res.Output, "listed-private") {
		t.Fatalf("the script read root's files:\n%s", res.Output)
	}
	if !strings.Contains(res.Output, "git-ok\n") || !strings.Contains(res.Output, "b\n") {
		t.Fatalf("git or awk do not work in the sandbox:\n%s", res.Output)
	}
}
