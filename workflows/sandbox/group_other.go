//go:build !unix

package sandbox

import "os/exec"

// ownGroup leaves cmd's cancellation to kill the process alone: process
// groups are a unix notion.
func ownGroup(cmd *exec.Cmd) {}
