//go:build unix

package gitsource

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in its own process group and makes cancellation kill
// the whole group, so helpers git starts (git-remote-https, index-pack,
// upload-pack) die with it instead of lingering on a stalled connection.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
