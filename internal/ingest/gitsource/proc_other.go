//go:build !unix

package gitsource

import "os/exec"

// setProcessGroup leaves cmd as it is: without process groups, cancellation kills
// git itself and its helpers exit when their pipes close.
func setProcessGroup(cmd *exec.Cmd) {}
