package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/internal/testenv/gobuild"

	"backlot.dev/backlot/internal/bench/gen"
)

// built is the binary the process-level tests share: linking it (the
// Temporal server included) takes seconds, so it is built once.
var built = gobuild.Once{Package: ".", Prefix: "backlot-test-bin-"}

// TestMain removes the shared binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	built.Remove()
	os.Exit(code)
}

// buildBinary builds the backlot binary once for the process-level tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	return built.Path(t)
}

type devProc struct {
	cmd  *exec.Cmd
	base string
}

func startDevProc(t *testing.T, bin, data, catalog string) *devProc {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "dev", "--quiet", "--data", data, "--addr", addr, "--catalog", catalog, "--refresh-interval", "1h", "--temporal-addr", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProc{cmd: cmd, base: "http://" + addr}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlot dev did not answer within 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *devProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("backlot dev exited badly: %v", err)
	}
}

func waitTotal(t *testing.T, base string, want int, within time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(within)
	for {
		n, err := totalItems(c, base)
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("catalog has %d entities after %s, want %d (last error %v)", n, within, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// catalogView is the whole catalog as the API serves it, without the identifiers
// a run draws at random (uid, etag), sorted: what two runs must agree on.
func catalogView(t *testing.T, base string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Minute}
	var ents []map[string]any
	if err := getJSON(c, base+"/api/catalog/entities", &ents); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		md := e["metadata"].(map[string]any)
		delete(md, "uid")
		delete(md, "etag")
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	b, _ := json.Marshal(out)
	return string(b)
}

func TestKillDuringIngestionThenRestartEqualsCleanRun(t *testing.T) {
	bin := buildBinary(t)
	const n = 30000
	cat := t.TempDir()
	sum, err := gen.Generate(cat, gen.Config{Entities: n, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	want := sum.Entities + 1

	// Clean run.
	clean := startDevProc(t, bin, t.TempDir(), sum.RootFile)
	waitTotal(t, clean.base, want, 5*time.Minute)
	cleanView := catalogView(t, clean.base)
	clean.stop(t)

	// Kill -9 during ingestion.
	data := t.TempDir()
	p := startDevProc(t, bin, data, sum.RootFile)
	c := &http.Client{Timeout: 5 * time.Second}
	var atKill int
	for {
		got, _ := totalItems(c, p.base)
		if got > n/10 {
			atKill = got
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	if atKill >= want {
		t.Fatalf("ingestion finished before the kill (%d entities); the test needs a larger catalog", atKill)
	}
	t.Logf("killed with %d of %d entities ingested", atKill, want)

	p = startDevProc(t, bin, data, sum.RootFile)
	waitTotal(t, p.base, want, 5*time.Minute)
	view := catalogView(t, p.base)
	p.stop(t)
	if view != cleanView {
		t.Fatalf("after kill -9 and restart the catalog differs from a clean run's (%d vs %d bytes)", len(view), len(cleanView))
	}
}
