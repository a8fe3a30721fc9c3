package temporalsrv

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
)

// TestTheServerIsSizedForOneProcess reads the server's dynamic configuration
// through Temporal's own settings, as its services read it, so a key spelled
// wrong or a value of the wrong type (which Temporal answers with the
// default) fails here: one shard, one partition per task queue, no health
// signal rings of 5,000 samples, no scanner workers, and the history
// schedulers' worker counts.
func TestTheServerIsSizedForOneProcess(t *testing.T) {
	t.Parallel()
	col := dynamicconfig.NewCollection(dynamicConfig(), tlog.NewNoopLogger())
	for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		if n := dynamicconfig.MatchingNumTaskqueueReadPartitions.Get(col)(DefaultNamespace, "backlot-scaffolder", typ); n != 1 {
			t.Errorf("%s task queue: %d read partitions, want 1", typ, n)
		}
		if n := dynamicconfig.MatchingNumTaskqueueWritePartitions.Get(col)(DefaultNamespace, "backlot-scaffolder", typ); n != 1 {
			t.Errorf("%s task queue: %d write partitions, want 1", typ, n)
		}
	}
	bools := []struct {
		name string
		got  bool
	}{
		{"persistence health signal metrics", dynamicconfig.PersistenceHealthSignalMetricsEnabled.Get(col)()},
		{"history health signal metrics", dynamicconfig.HistoryHealthSignalMetricsEnabled.Get(col)()},
		{"history scanner", dynamicconfig.HistoryScannerEnabled.Get(col)()},
		{"task queue scanner", dynamicconfig.TaskQueueScannerEnabled.Get(col)()},
		{"build id scavenger", dynamicconfig.BuildIdScavengerEnabled.Get(col)()},
	}
	for _, b := range bools {
		if b.got {
			t.Errorf("%s enabled, want disabled", b.name)
		}
	}
	if n := dynamicconfig.PersistenceHealthSignalBufferSize.Get(col)(); n != healthSignalSamples {
		t.Errorf("health signal ring of %d samples, want %d", n, healthSignalSamples)
	}
	if n := dynamicconfig.TransferProcessorSchedulerWorkerCount.Get(col)(); n != schedulerWorkers {
		t.Errorf("transfer scheduler workers %d, want %d", n, schedulerWorkers)
	}
	cfg := serverConfig("127.0.0.1", servicePorts{GRPC: map[string]int{}}, config.SQL{})
	if n := cfg.Persistence.NumHistoryShards; n != 1 {
		t.Errorf("%d history shards, want 1", n)
	}
}

func wait(ctx workflow.Context) error { return workflow.Sleep(ctx, time.Millisecond) }

// TestTaskQueuesHaveOnePartition asks a running server for the partitions
// of a task queue a worker polls: one for workflow tasks and one for
// activity tasks, where a server with Temporal's defaults answers four of
// each.
func TestTaskQueuesHaveOnePartition(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{DBPath: filepath.Join(t.TempDir(), "temporal.db"), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c, err := client.Dial(client.Options{HostPort: s.Addr(), Namespace: s.Namespace(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "lean", worker.Options{})
	w.RegisterWorkflow(wait)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "lean-1", TaskQueue: "lean"}, wait)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	parts, err := c.WorkflowService().ListTaskQueuePartitions(ctx, &workflowservice.ListTaskQueuePartitionsRequest{
		Namespace: s.Namespace(), TaskQueue: &taskqueuepb.TaskQueue{Name: "lean", Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parts.WorkflowTaskQueuePartitions); n != 1 {
		t.Errorf("%d workflow task queue partitions, want 1: %v", n, parts.WorkflowTaskQueuePartitions)
	}
	if n := len(parts.ActivityTaskQueuePartitions); n != 1 {
		t.Errorf("%d activity task queue partitions, want 1: %v", n, parts.ActivityTaskQueuePartitions)
	}
}
