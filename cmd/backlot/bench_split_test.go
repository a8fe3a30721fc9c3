package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/bench"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestBenchCatalogSplitRoles runs `backlot bench catalog --production
// --split-roles` on 300 entities, with the in-process broker helper and the
// test PostgreSQL, and checks that it started and reported each role's
// process and the broker, that the catalog became queryable through the api
// process, and that the PostgreSQL backends' CPU was counted.
func TestBenchCatalogSplitRoles(t *testing.T) {
	bin := buildBinary(t)
	work := t.TempDir()
	cmd := exec.Command(bin, "bench", "catalog", "--production", "--split-roles", "--entities", "300",
		"--requests", "10", "--edits", "1", "--postgres-url", pgtest.Server(t), "--dir", filepath.Join(work, "run"), "--output", "json")
	// The broker helper is built from the module when none is beside the binary.
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench catalog --split-roles: %v\n%s", err, lastBytes(stderr.String(), 4000))
	}
	var res bench.CatalogResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("the JSON result: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(res.Mode, "one process per role") {
		t.Errorf("mode %q, want one process per role", res.Mode)
	}
	if res.Entities < 300 || res.IngestSeconds <= 0 {
		t.Errorf("%d entities queryable after %.1fs, want at least 300 after some time", res.Entities, res.IngestSeconds)
	}
	for _, name := range []string{"filteredList", "byQueryPage", "facets", "byName"} {
		if l := res.Latency[name]; l.N != 10 || l.P50 <= 0 {
			t.Errorf("latency of %s: %+v, want 10 requests measured", name, l)
		}
		if _, ok := res.RequestCPU[name]; !ok {
			t.Errorf("no CPU per request of %s", name)
		}
		if res.FirstRequestMs[name] <= 0 {
			t.Errorf("no first request of %s", name)
		}
	}
	if res.ChangeVisibleMs.N != 1 {
		t.Errorf("edit visible: %+v, want one edit measured", res.ChangeVisibleMs)
	}
	for _, role := range []string{"projector", "ingester", "api", "kafkaBroker"} {
		u, ok := res.Processes[role]
		if !ok {
			t.Errorf("no process %s reported (got %v)", role, processNames(res.Processes))
			continue
		}
		if u.PeakRSSMB <= 0 || u.PeakAnonMB <= 0 || u.EndRSSMB <= 0 || u.IngestRSSMB <= 0 || u.CPUSeconds <= 0 {
			t.Errorf("process %s: %+v, want its memory and CPU", role, u)
		}
		if u.PeakAnonMB+u.PeakFileMB > u.PeakRSSMB+0.01 {
			t.Errorf("process %s: peak split %.1f+%.1f MB above the peak %.1f MB", role, u.PeakAnonMB, u.PeakFileMB, u.PeakRSSMB)
		}
	}
	if len(res.Processes) != 4 {
		t.Errorf("processes %v, want the three roles and the broker", processNames(res.Processes))
	}
	if u := res.Processes["api"]; u.Roles != "api" {
		t.Errorf("the api process ran roles %q", u.Roles)
	}
	// The servers' sum: at least the largest process, and the CPU sum.
	if p := res.Processes["projector"]; res.PeakRSSMB < p.IngestRSSMB || res.IngestCPUSeconds <= 0 {
		t.Errorf("servers' peak %.1f MB (projector alone %.1f MB), ingest CPU %.2fs", res.PeakRSSMB, p.IngestRSSMB, res.IngestCPUSeconds)
	}
	if res.PostgresCPUSeconds <= 0 || res.PostgresCPUSeconds < res.PostgresIngestCPUSeconds {
		t.Errorf("PostgreSQL CPU %.2fs in all, %.2fs until ingested", res.PostgresCPUSeconds, res.PostgresIngestCPUSeconds)
	}
	if res.RebuildPerSecond <= 0 {
		t.Errorf("no replay rate")
	}
}

// processNames answers the names of the processes reported.
func processNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lastBytes answers the last n bytes of s.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
