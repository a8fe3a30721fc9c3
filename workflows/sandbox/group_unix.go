//go:build unix

package sandbox

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a new process group, and its
// cancellation kill the whole group, so a script's children die with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
