package app

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestProcessLimit: a root worker without a pids cgroup warns, naming the
// limit that does not hold; with a pids cgroup, or as another user, it says
// what bounds the scripts.
func TestProcessLimit(t *testing.T) {
	for _, c := range []struct {
		euid  int
		pids  string
		level slog.Level
		words []string
	}{
		{0, "", slog.LevelWarn, []string{"does NOT hold", "root", "RLIMIT_NPROC", "pids cgroup"}},
		{0, "/sys/fs/cgroup/pids", slog.LevelInfo, []string{"/sys/fs/cgroup/pids", "pids.max"}},
		{1000, "", slog.LevelInfo, []string{"RLIMIT_NPROC"}},
	} {
		level, msg, args := processLimit(c.euid, c.pids)
		line := msg + " " + fmt.Sprint(args...)
		if level != c.level {
			t.Errorf("uid %d, cgroup %q: level %v, want %v (%s)", c.euid, c.pids, level, c.level, line)
		}
		for _, w := range c.words {
			if !strings.Contains(line, w) {
				t.Errorf("uid %d, cgroup %q: %q does not say %q", c.euid, c.pids, line, w)
			}
		}
	}
}
