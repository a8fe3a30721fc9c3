package temporalsrv_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/internal/temporalsrv"
)

func greet(ctx workflow.Context, name string) (string, error) {
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	return "hello " + name, nil
}

// TestServerKeepsWorkflowsAcrossARestart runs a workflow, stops the server,
// starts it again on the same file and finds the workflow and its result.
func TestServerKeepsWorkflowsAcrossARestart(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "temporal.db")
	run := func(body func(c client.Client)) {
		s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
		c, err := client.Dial(client.Options{HostPort: s.Addr(), Namespace: s.Namespace()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body(c)
	}
	run(func(c client.Client) {
		w := worker.New(c, "q", worker.Options{})
		w.RegisterWorkflow(greet)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-1", TaskQueue: "q"}, greet, "backlot")
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := r.Get(ctx, &got); err != nil || got != "hello backlot" {
			t.Fatalf("result %q, %v", got, err)
		}
	})
	run(func(c client.Client) {
		ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: temporalsrv.DefaultNamespace})
		if err != nil || ns.Config.WorkflowExecutionRetentionTtl.AsDuration() != temporalsrv.DefaultRetention {
			t.Fatalf("namespace retention: %v %v", ns.GetConfig().GetWorkflowExecutionRetentionTtl(), err)
		}
		d, err := c.DescribeWorkflowExecution(ctx, "greet-1", "")
		if err != nil {
			t.Fatalf("after a restart: %v", err)
		}
		if st := d.WorkflowExecutionInfo.Status.String(); st != "Completed" {
			t.Fatalf("status after a restart %s, want Completed", st)
		}
		var got string
		if err := c.GetWorkflow(ctx, "greet-1", "").Get(ctx, &got); err != nil || got != "hello backlot" {
			t.Fatalf("result after a restart %q, %v", got, err)
		}
	})
}
