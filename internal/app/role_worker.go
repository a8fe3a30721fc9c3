package app

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/workflows/migration"
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
