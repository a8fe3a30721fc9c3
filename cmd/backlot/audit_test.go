package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditReplayWritesTheCatalogAsItWas edits the catalog after an instant and
// checks `audit replay --until` that instant writes the catalog as it was then,
// and `audit verify` and `audit export` work against the server.
func TestAuditReplayWritesTheCatalogAsItWas(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cat := filepath.Join(dir, "catalog.yaml")
	write := func(owner string) {
		os.WriteFile(cat, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\nspec:\n  type: service\n  lifecycle: production\n  owner: "+owner+"\n"), 0o644)
	}
	write("team-before")
	p := startDevProc(t, bin, filepath.Join(dir, "data"), cat)
	waitTotal(t, p.base, 2, 30*time.Second)
	time.Sleep(10 * time.Millisecond)
	instant := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)
	write("team-after")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--url", p.base}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("backlot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("catalog", "refresh", "component:default/checkout")
	if out := run("catalog", "get", "component:default/checkout", "-o", "json"); !strings.Contains(out, "team-after") {
		t.Fatalf("the edit did not land: %s", out)
	}

	out := filepath.Join(dir, "replay")
	msg := run("audit", "replay", "--until", instant, "--out", out)
	if !strings.Contains(msg, "events/s") {
		t.Fatalf("replay printed no rate: %s", msg)
	}
	b, err := os.ReadFile(filepath.Join(out, "component", "default", "checkout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "owner: team-before") || strings.Contains(string(b), "team-after") {
		t.Fatalf("replayed checkout:\n%s", b)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*", "*", "*.yaml"))
	if len(files) != 2 {
		t.Fatalf("replay wrote %v, want the component and the generated location", files)
	}
	// Read from the data folder while the server runs: the same files.
	local := filepath.Join(dir, "replay-local")
	if msg := run("audit", "replay", "--until", instant, "--out", local, "--data", filepath.Join(dir, "data")); !strings.Contains(msg, "wrote 2 entities") {
		t.Fatalf("replay --data: %s", msg)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(out, f)
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(local, rel))
		if err != nil || string(got) != string(want) {
			t.Errorf("replay --data wrote %s as\n%s\nthrough the server:\n%s (%v)", rel, got, want, err)
		}
	}
	// As a tar archive, to a file and to standard output: the same files,
	// and unpacked by tar, the same folder.
	archive := filepath.Join(dir, "replay.tar")
	if msg := run("audit", "replay", "--until", instant, "--out", archive, "--data", filepath.Join(dir, "data")); !strings.Contains(msg, "wrote 2 entities") {
		t.Fatalf("replay --out FILE.tar: %s", msg)
	}
	stdout := exec.Command(bin, "--url", p.base, "audit", "replay", "--until", instant, "--out", "-")
	piped, err := stdout.Output()
	if err != nil {
		t.Fatalf("replay --out -: %v", err)
	}
	if fromFile, _ := os.ReadFile(archive); string(piped) != string(fromFile) {
		t.Errorf("the archive on standard output (%d bytes) differs from the file's (%d bytes)", len(piped), len(fromFile))
	}
	unpacked := filepath.Join(dir, "unpacked")
	os.Mkdir(unpacked, 0o755)
	if tarOut, err := exec.Command("tar", "-xf", archive, "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, tarOut)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(out, f)
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(unpacked, rel))
		if err != nil || string(got) != string(want) {
			t.Errorf("the archive holds %s as\n%s\nthe folder:\n%s (%v)", rel, got, want, err)
		}
	}
	// Again into the same folder: nothing changed, nothing rewritten.
	// Read on two connections, the log gives the same files.
	if msg := run("audit", "replay", "--until", instant, "--out", local, "--data", filepath.Join(dir, "data"), "--readers", "2"); !strings.Contains(msg, "(2 unchanged)") {
		t.Errorf("replay into the same folder: %s", msg)
	}

	if h := run("audit", "history", "component:default/checkout"); !strings.Contains(h, "~ spec.owner: team-before -> team-after") || !strings.Contains(h, "version 2") {
		t.Fatalf("history:\n%s", h)
	}
	if a := run("audit", "as-of", instant, "--filter", "kind=component", "-o", "json"); !strings.Contains(a, "team-before") || strings.Contains(a, "team-after") {
		t.Fatalf("as-of %s:\n%s", instant, a)
	}
	if d := run("audit", "diff", instant, time.Now().UTC().Format(time.RFC3339Nano)); !strings.Contains(d, "changed  component:default/checkout") || !strings.Contains(d, "spec.owner") {
		t.Fatalf("diff:\n%s", d)
	}
	if v := run("audit", "verify"); !strings.Contains(v, "the log is intact") {
		t.Fatalf("verify: %s", v)
	}
	export := filepath.Join(dir, "log.jsonl")
	run("audit", "export", "--format", "jsonl", "--out", export)
	lines, _ := os.ReadFile(export)
	if n := strings.Count(string(lines), "\n"); n < 3 || !strings.Contains(string(lines), `"type":"backlot.entity.upserted.v1"`) {
		t.Fatalf("export wrote %d lines:\n%s", n, lines)
	}
}
