package temporalsrv

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	col := dynamicconfig.NewCollection(dynamicConfig(1), tlog.NewNoopLogger())
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
// tasks of a queue a worker polls are written to: one for workflow tasks and
// one for activity tasks, where a server with Temporal's defaults answers
// four of each.
func TestTaskQueuesHaveOnePartition(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	if wf, act := partitionsRead(t, db); wf != 1 || act != 1 {
		t.Errorf("%d workflow and %d activity task queue partitions, want 1 each", wf, act)
	}
}

// TestAnEarlierDatabaseKeepsReadingItsPartitions checks the partitions read
// in a database as an earlier Backlot left it (no partitions file beside
// it): the four its queues had, through Temporal's own accessors, so a task
// queued in one of them is handed out after the upgrade, while tasks are
// written to one; a server on it runs a workflow. A database Start created
// reads one, and a partitions file that names no count stops the start.
func TestAnEarlierDatabaseKeepsReadingItsPartitions(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	read := func() (readN, writeN int) {
		t.Helper()
		n, err := readPartitionsOf(db)
		if err != nil {
			t.Fatal(err)
		}
		col := dynamicconfig.NewCollection(dynamicConfig(n), tlog.NewNoopLogger())
		typ := enumspb.TASK_QUEUE_TYPE_ACTIVITY
		return dynamicconfig.MatchingNumTaskqueueReadPartitions.Get(col)(DefaultNamespace, "lean", typ),
			dynamicconfig.MatchingNumTaskqueueWritePartitions.Get(col)(DefaultNamespace, "lean", typ)
	}
	if wf, _ := partitionsRead(t, db); wf != 1 {
		t.Fatalf("a database Start created: %d workflow task queue partitions, want 1", wf)
	}
	if r, w := read(); r != 1 || w != 1 {
		t.Errorf("a database Start created: %d read and %d write partitions, want 1 and 1", r, w)
	}
	if err := os.Remove(db + partitionsSuffix); err != nil {
		t.Fatal(err)
	}
	if r, w := read(); r != legacyReadPartitions || w != 1 {
		t.Errorf("an earlier database: %d read and %d write partitions, want %d and 1", r, w, legacyReadPartitions)
	}
	if wf, _ := partitionsRead(t, db); wf != 1 {
		t.Errorf("an earlier database: tasks written to %d partitions, want 1", wf)
	}
	if _, err := os.Stat(db + partitionsSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a start on an earlier database wrote a partitions file (%v): its other partitions would no longer be read", err)
	}
	if err := os.WriteFile(db+partitionsSuffix, []byte("many"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s, err := Start(ctx, Config{DBPath: db, Addr: "127.0.0.1:0"}); err == nil {
		s.Stop()
		t.Error("a partitions file that names no count: the server started")
	} else if !strings.Contains(err.Error(), "is not a partition count") {
		t.Errorf("a partitions file that names no count: %v", err)
	}
}

// partitionsRead starts a server on the database at db, runs a workflow on
// a task queue and returns how many partitions of its workflow and activity
// task queues the server lists (those tasks are written to).
func partitionsRead(t *testing.T, db string) (workflows, activities int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{DBPath: db, Addr: "127.0.0.1:0"})
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
	r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "lean"}, wait)
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
	return len(parts.WorkflowTaskQueuePartitions), len(parts.ActivityTaskQueuePartitions)
}
