package app

import (
	"context"
	"log/slog"
	"os"

	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
)

// newWorkerRole starts the Temporal workers of the scaffolder's and the
// migrations' task queues on e's client and records them in m. e.Close stops
// them. It self-tests the migration scripts' sandbox first and says how
// scripts will run: sandboxed, unisolated (--insecure-scripts), or refused.
func newWorkerRole(e *engine, m *Manifest) error {
	logger := e.logger
	if logger == nil {
		logger = slog.Default()
	}
	switch sandboxed, err := e.macts.CheckScripts(context.Background()); {
	case err != nil:
		logger.Error("migration scripts are refused on this worker", "err", err)
	case !sandboxed:
		logger.Warn("migration scripts run WITHOUT isolation (--insecure-scripts): bubblewrap is unavailable")
	default:
		logger.Info("migration scripts run in a bubblewrap sandbox")
	}
	level, msg, args := processLimit(os.Geteuid(), sandbox.PidsCgroup())
	logger.Log(context.Background(), level, msg, args...)
	for _, q := range []struct {
		name     string
		register func(worker.Registry)
	}{
		{scaffolder.TaskQueue, func(r worker.Registry) { scaffolder.Register(r, e.acts) }},
		{migration.TaskQueue, func(r worker.Registry) { migration.Register(r, e.macts) }},
	} {
		w, err := scaffoldsvc.StartWorker(e.client, q.name, q.register)
		if err != nil {
			return err
		}
		e.workers = append(e.workers, w)
		m.TaskQueues = append(m.TaskQueues, q.name)
	}
	m.Roles = append(m.Roles, RoleWorker)
	return nil
}

// processLimit says how the process count of migration scripts is bounded on
// a worker of effective uid euid whose pids cgroup folder is pids ("" when it
// may create none): a warning when the worker runs as root without a pids
// cgroup, since the kernel exempts uid 0 from RLIMIT_NPROC and a script could
// then fork until the host has no process left.
func processLimit(euid int, pids string) (slog.Level, string, []any) {
	switch {
	case pids != "":
		return slog.LevelInfo, "migration scripts' process count is bounded by a pids cgroup of their own (pids.max)", []any{"cgroup", pids}
	case euid == 0:
		return slog.LevelWarn, "migration scripts' process limit does NOT hold: the worker runs as root, where RLIMIT_NPROC does not apply, and may create no pids cgroup (pids.max); run the worker as another user or give it a writable pids cgroup",
			[]any{"limit", "RLIMIT_NPROC", "uid", euid}
	default:
		return slog.LevelInfo, "migration scripts' process count is bounded by RLIMIT_NPROC (no pids cgroup is writable, and the worker does not run as root)", []any{"uid", euid}
	}
}
