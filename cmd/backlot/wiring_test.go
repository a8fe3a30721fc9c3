package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

// TestDevAndServeServeTheSameWithWorkflows builds backlot dev on the
// in-process Temporal server and backlot serve with every role on Kafka,
// PostgreSQL and that same Temporal: both run the workers of the scaffolder's
// and the migrations' task queues and serve the same routes, handlers and
// runners, but for the state topic's handler, which needs Kafka.
func TestDevAndServeServeTheSameWithWorkflows(t *testing.T) {
	t.Setenv(scaffoldsvc.KeyEnv, testKey)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d, err := app.StartDev(ctx, app.DevConfig{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: logger,
		Temporal: startTemporal, TemporalAddr: "127.0.0.1:0", RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	prefix := kafkatest.TopicPrefix(t)
	s, err := app.StartServe(ctx, app.ServeConfig{KafkaBrokers: kafkatest.Brokers(t), TopicPrefix: prefix, Group: prefix + "projector",
		Partitions: 3, ReplicationFactor: 1, PostgresURL: pgtest.URL(t), TemporalAddress: d.TemporalAddr(),
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: logger, RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	dm, sm := d.Manifest(), s.Manifest()
	wantQueues := slices.Sorted(slices.Values([]string{scaffolder.TaskQueue, migration.TaskQueue}))
	if !slices.Equal(dm.TaskQueues, wantQueues) || !slices.Contains(dm.Roles, app.RoleWorker) ||
		!slices.Contains(dm.Routes, "POST /api/scaffolder/v2/tasks") || !slices.Contains(dm.Routes, "POST /api/migrations") {
		t.Fatalf("dev on Temporal: %+v", dm)
	}
	if !slices.Contains(sm.Handlers, "state-feed") {
		t.Fatalf("serve runs no state-feed handler: %v", sm.Handlers)
	}
	sm.Handlers = slices.DeleteFunc(sm.Handlers, func(h string) bool { return h == "state-feed" })
	for _, c := range []struct {
		what     string
		dev, srv []string
	}{
		{"roles", dm.Roles, sm.Roles},
		{"routes", dm.Routes, sm.Routes},
		{"handlers", dm.Handlers, sm.Handlers},
		{"task queues", dm.TaskQueues, sm.TaskQueues},
		{"runners", dm.Runners, sm.Runners},
	} {
		if !slices.Equal(c.dev, c.srv) {
			t.Errorf("%s differ:\n dev   %v\n serve %v", c.what, c.dev, c.srv)
		}
	}
}
