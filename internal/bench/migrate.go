package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"backlot.dev/backlot/workflows/migration"
)

// MigrateResult is what Migrate measured; `backlot bench migrate -o json`
// prints it as is.
type MigrateResult struct {
	Repos         int     `json:"repos"`
	MaxConcurrent int     `json:"maxConcurrent"`
	Seconds       float64 `json:"seconds"`
	PerRepoMillis float64 `json:"perRepoMillis"`
	ReposPerSec   float64 `json:"reposPerSecond"`
	Executions    int     `json:"executions"`
	MaxHistory    int64   `json:"maxHistoryEvents"`
	MaxHistoryOf  string  `json:"maxHistoryWorkflow"`
	ParentRuns    int     `json:"parentRuns"`
}

// MigrateOptions say what Migrate runs.
type MigrateOptions struct {
	// Backlot is the path of the backlot binary to start; required.
	Backlot string
	// Repos is the number of repositories to migrate; Concurrent the
	// migration's maxConcurrent.
	Repos, Concurrent int
	// Keep keeps the data folder.
	Keep bool
	// Progress receives progress lines and the server's output; nil discards them.
	Progress io.Writer
}

// WriteText writes r as the lines `backlot bench migrate` prints.
func (r *MigrateResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "migration of %d repositories (no-op change, %d at a time): %.1fs, %.1f ms per repository, %.1f repositories/s\n",
		r.Repos, r.MaxConcurrent, r.Seconds, r.PerRepoMillis, r.ReposPerSec)
	fmt.Fprintf(w, "workflow executions: %d (the parent ran %d times); largest history: %d events (%s)\n",
		r.Executions, r.ParentRuns, r.MaxHistory, r.MaxHistoryOf)
}

// Migrate creates o.Repos repositories on a fresh local git host with their
// components in a catalog, starts `backlot dev`, runs a migration whose script
// changes nothing (so every repository is cloned, the script run, and the
// target found already migrated), and measures the time from POST
// /api/migrations to the migration's end, per repository, and the largest
// history (events) of any workflow execution in the run, parent runs and
// per-repository children alike.
func Migrate(ctx context.Context, o MigrateOptions) (*MigrateResult, error) {
	if o.Backlot == "" {
		return nil, fmt.Errorf("bench: MigrateOptions.Backlot names no backlot binary")
	}
	n, concurrent, keep, progress := o.Repos, o.Concurrent, o.Keep, o.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }
	dir, err := os.MkdirTemp("", "backlot-bench-migrate-")
	if err != nil {
		return nil, err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	data := filepath.Join(dir, "data")
	catalogFile := filepath.Join(dir, "fleet.yaml")
	start := time.Now()
	if err := MakeFleetRepos(ctx, filepath.Join(data, "repos"), catalogFile, n, func(done int) { say("created %d/%d repositories", done, n) }); err != nil {
		return nil, err
	}
	say("created %d repositories in %.1fs", n, time.Since(start).Seconds())
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tport, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	temporal := "127.0.0.1:" + strconv.Itoa(tport)
	srv := exec.Command(o.Backlot, "dev", "--quiet", "--data", data, "--addr", "127.0.0.1:"+strconv.Itoa(port), "--catalog", catalogFile,
		"--refresh-interval", "1h", "--temporal-addr", temporal)
	srv.Stderr = progress
	if err := srv.Start(); err != nil {
		return nil, err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	hc := &http.Client{Timeout: time.Minute}
	for deadline := time.Now().Add(5 * time.Minute); ; {
		if total, err := TotalItems(hc, base); err == nil && total >= n+1 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the catalog did not load within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	spec := fmt.Sprintf(`{"apiVersion":"backlot.dev/v1alpha1","kind":"Migration","metadata":{"name":"noop"},"spec":{
"targets":{"selector":"entity.kind == \"Component\""},"change":{"script":"true","timeout":"1m"},
"pullRequest":{"branch":"backlot/noop","title":"Nothing"},"rollout":{"maxConcurrent":%d},"merge":"auto"}}`, concurrent)
	start = time.Now()
	resp, err := hc.Post(base+"/api/migrations", "application/json", bytes.NewReader([]byte(spec)))
	if err != nil {
		return nil, err
	}
	var plan struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&plan)
	resp.Body.Close()
	if err != nil || plan.ID == "" {
		return nil, fmt.Errorf("start the migration: %v (HTTP %d)", err, resp.StatusCode)
	}
	last := time.Now()
	for {
		var r migration.Report
		if err := GetJSON(hc, base+"/api/migrations/"+plan.ID, &r); err == nil && r.State == migration.MigrationCompleted {
			break
		} else if err == nil && (r.State == migration.MigrationStopped || r.State == migration.MigrationCancelled) {
			return nil, fmt.Errorf("the migration %s: %s", r.State, r.Reason)
		} else if time.Since(last) > 5*time.Second {
			say("migrating: %v after %.0fs", r.Counts, time.Since(start).Seconds())
			last = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	res := &MigrateResult{Repos: n, MaxConcurrent: concurrent, Seconds: took.Seconds(),
		PerRepoMillis: float64(took.Milliseconds()) / float64(n), ReposPerSec: float64(n) / took.Seconds()}
	c, err := client.Dial(client.Options{HostPort: temporal, Namespace: "default", Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Executions {
			if e.GetHistoryLength() == 0 {
				// Not every visibility store keeps the length: ask the execution.
				if d, err := c.DescribeWorkflowExecution(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()); err == nil {
					e = d.GetWorkflowExecutionInfo()
				}
			}
			res.Executions++
			if e.GetType().GetName() == migration.WorkflowName {
				res.ParentRuns++
			}
			if e.GetHistoryLength() > res.MaxHistory {
				res.MaxHistory, res.MaxHistoryOf = e.GetHistoryLength(), e.GetType().GetName()+" "+e.GetExecution().GetWorkflowId()
			}
		}
		if token = page.NextPageToken; len(token) == 0 {
			break
		}
	}
	return res, nil
}
