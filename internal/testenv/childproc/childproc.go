package childproc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Run reports whether this process is the child that runs case name of the
// calling test (the environment variable env is name). Otherwise it runs the
// test again in a fresh process with env set to name, fails with the child's
// output when the child fails, logs it when it passes, and reports false:
// the caller then returns.
func Run(t *testing.T, env, name string) bool {
	t.Helper()
	if os.Getenv(env) == name {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	t.Logf("child process:\n%s", out)
	return false
}
