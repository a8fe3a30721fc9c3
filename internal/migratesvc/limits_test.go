package migratesvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/migration"
)

// fleetReader answers n components with a repository each for a selector.
type fleetReader struct {
	catalogstore.Reader
	n int
}

func (r fleetReader) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	var p catalogstore.Page
	for i := range r.n {
		name := fmt.Sprintf("svc-%05d", i)
		body := fmt.Sprintf(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":%q,"annotations":{"backstage.io/source-location":"url:https://git.example/org/%s/tree/main/"}},"spec":{"type":"service","lifecycle":"production","owner":"team-a"}}`, name, name)
		p.Items = append(p.Items, catalogstore.EntityView{Key: "component:default/" + name, Ref: "component:default/" + name, Body: []byte(body)})
	}
	return p, nil
}

const limitSpec = `{"apiVersion":"backlot.dev/v1alpha1","kind":"Migration","metadata":{"name":"add-codeowners"},
"spec":{"targets":{"selector":"entity.kind == \"Component\""},"change":{"script":"touch CODEOWNERS"},
"pullRequest":{"branch":"backlot/codeowners","title":"Add CODEOWNERS"}}}`

func TestTargetLimitsAreInvalidInputNamingTheFieldAndTheLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		cfg    Config
		n      int
		dryRun bool
		want   string
	}{
		{"migration", Config{MaxTargets: 5}, 6, false, "spec.targets: chooses 6 targets, over the limit of 5 a migration may have"},
		{"migration default", Config{}, DefaultMaxTargets + 1, false, fmt.Sprintf("over the limit of %d a migration may have", DefaultMaxTargets)},
		{"dry run", Config{DryRunMaxTargets: 3}, 4, true, "spec.targets: chooses 4 targets, over the limit of 3 a dry run previews"},
		{"dry run default", Config{}, DefaultDryRunMaxTargets + 1, true, fmt.Sprintf("over the limit of %d a dry run previews", DefaultDryRunMaxTargets)},
	} {
		c.cfg.Reader = fleetReader{n: c.n}
		_, err := New(c.cfg).Start(context.Background(), "user:default/ada", []byte(limitSpec), c.dryRun)
		if !errors.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want invalid input containing %q", c.name, err, c.want)
		}
	}
}

func TestDryRunWithoutTemporalIsUnavailableNamingWhy(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Reader: fleetReader{n: 2}}).Start(context.Background(), "user:default/ada", []byte(limitSpec), true)
	if !errors.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "dry runs run on a worker") {
		t.Fatalf("err = %v, want unavailable, naming the worker", err)
	}
}

// idleTemporal is a Temporal client whose migration task queue no worker
// polls.
type idleTemporal struct {
	client.Client
	asked string
}

func (c *idleTemporal) DescribeTaskQueue(ctx context.Context, q string, typ enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	c.asked = q
	return &workflowservice.DescribeTaskQueueResponse{}, nil
}

func TestDryRunWithoutAWorkerIsUnavailableNamingTheQueue(t *testing.T) {
	t.Parallel()
	c := &idleTemporal{}
	_, err := New(Config{Client: c, Reader: fleetReader{n: 2}}).Start(context.Background(), "user:default/ada", []byte(limitSpec), true)
	if !errors.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "no worker polls the task queue "+migration.TaskQueue) || c.asked != migration.TaskQueue {
		t.Fatalf("err = %v (asked %q), want unavailable, naming the migration task queue", err, c.asked)
	}
}
