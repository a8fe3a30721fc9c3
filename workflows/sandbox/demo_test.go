package sandbox_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/sandbox"
)

// TestOneHostileScriptIsStoppedAtEveryTurn is the sandbox's demonstration
// (issue 14, "Must show"): one script, run through the real sandbox, tries in
// turn to read /proc/1/environ and its parent's environment, to open a socket,
// to write outside its checkout and to fork without bound. Each attempt is
// asserted stopped, and its outcome logged as the script saw it.
func TestOneHostileScriptIsStoppedAtEveryTurn(t *testing.T) {
	t.Setenv("BACKLOT_SECRETS_KEY", secret)
	t.Setenv("GITHUB_TOKEN", secret)
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
	outside := t.TempDir() // a host folder beside the checkout
	const procs = 64
	r := newRunner(t, sandbox.Config{Limits: sandbox.Limits{Processes: procs}})
	dir, home := folders(t)
	script := `echo "== /proc/1/environ"; tr '\0' '\n' < /proc/1/environ 2>&1; echo "exit $?"
echo '== /proc/$PPID/environ'; echo "PPID=$PPID"; tr '\0' '\n' < /proc/$PPID/environ 2>&1; echo "exit $?"
echo "== every /proc/*/environ"; cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | grep -c . ; echo "processes seen: $(ls -d /proc/[0-9]* | wc -l)"
echo "== socket"; bash -c 'exec 3<>/dev/tcp/127.0.0.1/` + port + `' 2>&1 && echo "socket: connected" || echo "socket: refused"
echo "== write outside"
for f in ` + outside + `/escaped $HOME/../escaped /etc/escaped /usr/escaped /escaped; do touch "$f" 2>/dev/null && echo "wrote $f" || echo "refused $f"; done
echo "== fork without bound"
( i=0; while [ $i -lt 1000 ]; do sleep 30 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo "all 1000 forked" ) 2>/tmp/fork.err
set -- /proc/[0-9]*; echo "processes running after 1000 forks: $#"
kill -9 -1 2>/dev/null
read -r first < /tmp/fork.err; echo "the shell said: $first"
echo "== end"`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := r.Run(ctx, sandbox.Spec{Script: script, Dir: dir, Home: home, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("the script did not run to its end: %v\n%s", err, res.Output)
	}
	out := res.Output
	sections := map[string]string{}
	for _, part := range strings.Split(out, "== ")[1:] {
		title, body, _ := strings.Cut(part, "\n")
		sections[title] = strings.TrimSpace(body)
	}
	if _, ok := sections["end"]; !ok {
		t.Fatalf("the script stopped early:\n%s", out)
	}

	// The environment: pid 1 is bwrap with the clean environment, the parent
	// is the sandbox's shell's; neither holds the worker's secrets.
	for _, s := range []string{"/proc/1/environ", "/proc/$PPID/environ", "every /proc/*/environ"} {
		if strings.Contains(sections[s], secret) {
			t.Errorf("%s holds the worker's secret:\n%s", s, sections[s])
		}
		if sections[s] == "" {
			t.Errorf("%s: the script printed nothing", s)
		}
	}
	if !strings.Contains(sections["/proc/1/environ"], "PATH=") {
		t.Errorf("/proc/1/environ was not read at all (the check saw nothing): %q", sections["/proc/1/environ"])
	}
	t.Logf("read /proc/1/environ (the sandbox's pid 1, bubblewrap) →\n%s", sections["/proc/1/environ"])
	t.Logf("read /proc/$PPID/environ →\n%s", sections["/proc/$PPID/environ"])
	t.Logf("every /proc/*/environ: lines, and processes visible →\n%s", sections["every /proc/*/environ"])

	if !strings.Contains(sections["socket"], "socket: refused") || accepted.Load() != 0 {
		t.Errorf("the socket was not refused (%d accepted):\n%s", accepted.Load(), sections["socket"])
	}
	t.Logf("open a socket to 127.0.0.1:%s on the host → %s", port, sections["socket"])

	for _, f := range []string{filepath.Join(outside, "escaped"), filepath.Join(filepath.Dir(home), "escaped"), "/etc/escaped", "/usr/escaped", "/escaped"} {
		if _, err := os.Stat(f); err == nil {
			os.Remove(f)
			t.Errorf("the script wrote %s on the host", f)
		}
	}
	if strings.Contains(sections["write outside"], "wrote") {
		t.Errorf("a write outside the checkout succeeded inside the sandbox:\n%s", sections["write outside"])
	}
	t.Logf("write outside the checkout →\n%s", sections["write outside"])

	fork := sections["fork without bound"]
	i := strings.LastIndex(fork, "after 1000 forks: ")
	if i < 0 {
		t.Fatalf("no process count:\n%s", fork)
	}
	count, _, _ := strings.Cut(fork[i+len("after 1000 forks: "):], "\n")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n > procs {
		t.Errorf("%q processes running, want at most the limit %d", count, procs)
	}
	if strings.Contains(fork, "all 1000 forked") || !strings.Contains(fork, "fork") {
		t.Errorf("no fork was refused:\n%s", fork)
	}
	t.Logf("fork 1000 sleeping children (limit %d processes) →\n%s", procs, fork)
}
