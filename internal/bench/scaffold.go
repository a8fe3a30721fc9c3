package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// ScaffoldResult is what Scaffold measured; `backlot bench scaffold -o json`
// prints it as is.
type ScaffoldResult struct {
	Tasks int `json:"tasks"`
	// StartupSeconds is from starting backlot dev (Temporal inside, a fresh
	// data folder) to /readyz answering 200; RestartSeconds the same on the
	// data folder the tasks left.
	StartupSeconds float64 `json:"startupSeconds"`
	RestartSeconds float64 `json:"restartSeconds"`
	// TaskMillis are POST /v2/tasks to the component readable by name.
	TaskMillis Latency `json:"taskMillis"`
}

// ScaffoldOptions say what Scaffold runs.
type ScaffoldOptions struct {
	// Backlot is the path of the backlot binary to start; required.
	Backlot string
	// Tasks is the number of tasks to run.
	Tasks int
	// Template is the template file to register; empty means
	// examples/templates/go-service/template.yaml under the working directory.
	Template string
	// Progress receives the server's output; nil discards it.
	Progress io.Writer
}

// WriteText writes r as the lines `backlot bench scaffold` prints.
func (r *ScaffoldResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "backlot dev ready with Temporal inside: %.2fs on a fresh data folder, %.2fs on the same data again\n", r.StartupSeconds, r.RestartSeconds)
	fmt.Fprintf(w, "example template, POST /v2/tasks to the component readable (%d tasks): p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
		r.Tasks, r.TaskMillis.P50, r.TaskMillis.P95, r.TaskMillis.P99)
}

// startBenchDev starts backlot dev on data and waits until /readyz answers.
func startBenchDev(exe, data, template string, progress io.Writer) (*exec.Cmd, string, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", 0, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	srv := exec.Command(exe, "dev", "--quiet", "--data", data, "--addr", "127.0.0.1:"+strconv.Itoa(port), "--catalog", template,
		"--refresh-interval", "1h", "--temporal-addr", "127.0.0.1:0")
	srv.Stderr = progress
	start := time.Now()
	if err := srv.Start(); err != nil {
		return nil, "", 0, err
	}
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv, base, time.Since(start), nil
			}
		}
		if time.Since(start) > 2*time.Minute {
			srv.Process.Kill()
			srv.Wait()
			return nil, "", 0, fmt.Errorf("backlot dev not ready in 2 minutes: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Scaffold starts `backlot dev` with the example go-service template on a
// fresh data folder and measures the time until it is ready (Temporal, its
// worker and the catalog), then runs the template o.Tasks times one after
// another and measures each from POST /api/scaffolder/v2/tasks until the new
// component is readable by name, then restarts the server on the same data
// and measures the start-up again.
func Scaffold(o ScaffoldOptions) (*ScaffoldResult, error) {
	if o.Backlot == "" {
		return nil, fmt.Errorf("bench: ScaffoldOptions.Backlot names no backlot binary")
	}
	progress, n := o.Progress, o.Tasks
	if progress == nil {
		progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "backlot-bench-scaffold-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if o.Template == "" {
		o.Template = "examples/templates/go-service/template.yaml"
	}
	template, err := filepath.Abs(o.Template)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(template); err != nil {
		return nil, fmt.Errorf("run it from the repository's root: %w", err)
	}
	data := filepath.Join(dir, "data")
	srv, base, took, err := startBenchDev(o.Backlot, data, template, progress)
	if err != nil {
		return nil, err
	}
	res := &ScaffoldResult{Tasks: n, StartupSeconds: took.Seconds()}
	hc := &http.Client{Timeout: time.Minute}
	for {
		if _, err := getJSONStatus(hc, base+"/api/catalog/entities/by-name/template/default/go-service"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var samples []float64
	for i := range n {
		name := fmt.Sprintf("bench-%03d", i)
		body, _ := json.Marshal(map[string]any{"templateRef": "template:default/go-service", "values": map[string]any{
			"name": name, "owner": "group:default/team-a", "repoUrl": "local?owner=team-a&repo=" + name}})
		start := time.Now()
		resp, err := hc.Post(base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return nil, fmt.Errorf("POST /v2/tasks: HTTP %d", resp.StatusCode)
		}
		for {
			if status, err := getJSONStatus(hc, base+"/api/catalog/entities/by-name/component/default/"+name); err == nil && status == http.StatusOK {
				break
			}
			if time.Since(start) > time.Minute {
				return nil, fmt.Errorf("component %s not readable a minute after its task started", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		samples = append(samples, float64(time.Since(start).Microseconds())/1000)
	}
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	res.TaskMillis = percentiles(samples)
	srv, _, took, err = startBenchDev(o.Backlot, data, template, progress)
	if err != nil {
		return nil, err
	}
	res.RestartSeconds = took.Seconds()
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	return res, nil
}

// getJSONStatus GETs url and answers its status; a status of 400 or more is
// an error.
func getJSONStatus(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return resp.StatusCode, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return resp.StatusCode, nil
}
