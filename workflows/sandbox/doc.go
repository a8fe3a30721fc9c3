// Package sandbox runs a migration's change script in an isolated sandbox
// built with bubblewrap (bwrap): its own user, PID, network, IPC, UTS and
// mount namespaces, uid and gid 65534, a fresh /proc that shows only the
// sandbox's own processes, read-only system folders (of /etc only what a
// shell and git need: the sandbox's user maps to the worker's, so a root
// worker's own files stay out), and only the checkout
// and a scratch home writable. The environment holds only the variables the
// caller documents (BACKLOT_*) plus PATH, HOME and LANG. Limits bound CPU
// time, address space, processes and open files (prlimit), wall time (the
// context) and the output kept (truncated with a marker). The process limit
// is also a pids cgroup of each run's own where the worker may create one
// (cgroup v1's pids hierarchy or a v2 hierarchy delegating pids): the kernel
// exempts uid 0 from RLIMIT_NPROC, and a root worker's sandbox user is uid 0
// on the host.
//
// New self-tests bwrap once. Where it is missing or fails, New fails with
// ErrUnavailable unless Config.Insecure is set: then scripts run directly
// with sh, with the same clean environment and limits, but with no
// isolation.
package sandbox
