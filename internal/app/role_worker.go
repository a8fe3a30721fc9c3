package app

import (
	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

// newWorkerRole starts the Temporal workers of the scaffolder's and the
// migrations' task queues on e's client and records them in m. e.Close stops
// them.
func newWorkerRole(e *engine, m *Manifest) error {
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
