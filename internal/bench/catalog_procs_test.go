package bench

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
)

// TestLocalPortsFindsThisProcesssSockets opens a listener and a connection to
// it in this process and finds both local ports among the process's sockets,
// and a port of another process's connection not among them.
func TestLocalPortsFindsThisProcesssSockets(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ports, err := localPorts(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	listen, client := l.Addr().(*net.TCPAddr).Port, c.LocalAddr().(*net.TCPAddr).Port
	if !ports[listen] || !ports[client] {
		t.Fatalf("ports %v lack the listener's %d or the client's %d", ports, listen, client)
	}
	if _, err := localPorts(1 << 30); err == nil {
		t.Errorf("localPorts of no process: no error")
	}
}

// TestBackendCPUCountsTheClientsBackends attributes the CPU of the backends
// whose client port is the process's, between two readings.
func TestBackendCPUCountsTheClientsBackends(t *testing.T) {
	t.Parallel()
	b := &backendCPU{last: map[int]int64{}, port: map[int]int{11: 5001, 12: 5002, 13: 6000}}
	before := map[int]int64{11: 100, 12: 100, 13: 100}
	after := map[int]int64{11: 400, 12: 150, 13: 1100, 14: 70}
	b.port[14] = 5001 // a backend that connected between the readings
	if got := b.clientOf(map[int]bool{5001: true, 5002: true}, before, after); got != 300+50+70 {
		t.Fatalf("clientOf = %d, want 420", got)
	}
	var none *backendCPU
	if none.clientOf(map[int]bool{5001: true}, before, after) != 0 || none.byPID() != nil || none.refreshedTotal() != 0 {
		t.Fatalf("a nil backendCPU counts something")
	}
}

// TestCatalogSplitRolesNeedsProduction refuses --split-roles on dev, before
// generating anything.
func TestCatalogSplitRolesNeedsProduction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Catalog(CatalogOptions{Backlot: "/nonexistent/backlot", SplitRoles: true, Entities: 100, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "--production") {
		t.Fatalf("Catalog with SplitRoles on dev = %v, want an error naming --production", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("generated %d entries before refusing", len(entries))
	}
}

// TestCatalogResultTextShowsEachProcess prints a row per process and the
// PostgreSQL backends' CPU.
func TestCatalogResultTextShowsEachProcess(t *testing.T) {
	t.Parallel()
	r := &CatalogResult{Mode: "split", Latency: map[string]Latency{"byName": {P50: 1, N: 3}},
		RequestCPU: map[string]RequestCPU{"byName": {API: 0.5, Server: 0.7, APIPostgres: 0.25, Postgres: 0.3}},
		Processes: map[string]ProcessUsage{
			"api":       {Roles: "api", PeakRSSMB: 140, PeakAnonMB: 60, PeakFileMB: 80, CPUSeconds: 5.5},
			"projector": {Roles: "projector", PeakRSSMB: 280, IngestCPUSeconds: 18.2, CPUSeconds: 26.7},
		},
		PostgresIngestCPUSeconds: 48.5, PostgresCPUSeconds: 76.4}
	var b bytes.Buffer
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{"api          api", "140 (60+80)", "projector    projector", "18.2", "PostgreSQL CPU      48.5s until all queryable, 76.4s in all",
		"CPU/request api 0.50ms (servers 0.70ms), PostgreSQL for it 0.25ms (all 0.30ms)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
}
