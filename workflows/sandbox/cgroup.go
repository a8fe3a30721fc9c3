package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A script's process count is bounded twice: RLIMIT_NPROC (prlimit) and, where
// the worker may write one, a pids cgroup of its own. The cgroup is what holds
// for a worker running as root: the kernel exempts uid 0 from RLIMIT_NPROC,
// and the sandbox's user maps to the worker's, so a root worker's script could
// otherwise fork until the host has no process left.

// pidsMounts are where a pids controller is looked for: cgroup v1's pids
// hierarchy, then cgroup v2's unified one.
var pidsMounts = []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}

// runSeq numbers the cgroups of one worker's runs.
var runSeq atomic.Int64

// findPidsCgroup returns a folder of a pids controller hierarchy where the
// worker may create child cgroups bounded by pids.max, or "" when there is
// none. It creates and removes a probe to be sure.
func findPidsCgroup() string {
	own := ownCgroups()
	for _, mount := range pidsMounts {
		v2 := fileExists(filepath.Join(mount, "cgroup.controllers"))
		if !v2 && !fileExists(filepath.Join(mount, "pids.max")) && !fileExists(filepath.Join(mount, "tasks")) {
			continue
		}
		key := "pids"
		if v2 {
			ctl, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
			if err != nil || !slices.Contains(strings.Fields(string(ctl)), "pids") {
				continue
			}
			key = ""
		}
		base := mount
		if p, ok := own[key]; ok && fileExists(filepath.Join(mount, p)) {
			base = filepath.Join(mount, p)
		}
		if v2 {
			// Children get pids.max only when the parent delegates pids.
			_ = os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+pids"), 0)
		}
		probe := filepath.Join(base, fmt.Sprintf("backlot-sandbox-probe-%d", os.Getpid()))
		if err := os.Mkdir(probe, 0o755); err != nil {
			continue
		}
		ok := os.WriteFile(filepath.Join(probe, "pids.max"), []byte("8"), 0) == nil
		os.Remove(probe)
		if ok {
			return base
		}
	}
	return ""
}

// ownCgroups reads /proc/self/cgroup: controller (or "" for v2) → path.
func ownCgroups() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// newRunCgroup creates a cgroup for one run under base, bounded to max
// processes, and returns its folder.
func newRunCgroup(base string, max int) (string, error) {
	dir := filepath.Join(base, fmt.Sprintf("backlot-sandbox-%d-%d", os.Getpid(), runSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("sandbox: pids cgroup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(max)), 0); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("sandbox: pids cgroup: %w", err)
	}
	return dir, nil
}

// removeRunCgroup kills what is left in a run's cgroup and removes it.
func removeRunCgroup(dir string) {
	for range 200 {
		if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
			return
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(raw)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// intoCgroup prefixes args so that the process first moves itself into the
// cgroup dir, then executes args: nothing of the script runs outside it.
func intoCgroup(dir string, args []string) []string {
	return append([]string{"/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && shift && unset PWD OLDPWD && exec "$@"`, "sh", dir}, args...)
}

// PidsCgroup returns the pids cgroup folder under which each script gets a
// cgroup of its own bounded by pids.max, or "" when this process may create
// none there (no pids controller, or no write access). It probes by creating
// and removing a child. For a worker running as root, "" means the scripts'
// process count is not bounded: the kernel exempts uid 0 from RLIMIT_NPROC.
func PidsCgroup() string { return findPidsCgroup() }
