package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// TestEventsTailPrintsTheStreamLive starts `backlot events tail` at the present
// end, makes a change, and reads it from the command's output.
func TestEventsTailPrintsTheStreamLive(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cat := filepath.Join(dir, "catalog.yaml")
	write := func(owner string) {
		os.WriteFile(cat, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: tailed\nspec:\n  type: service\n  lifecycle: production\n  owner: "+owner+"\n"), 0o644)
	}
	write("team-a")
	p := startDevProc(t, bin, filepath.Join(dir, "data"), cat)
	waitTotal(t, p.base, 2, 30*time.Second)

	tail := exec.Command(bin, "--url", p.base, "events", "tail", "--types", "backlot.entity.upserted.v1", "-o", "json")
	out, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tail.Process.Kill(); tail.Wait() }()
	time.Sleep(500 * time.Millisecond) // let it connect at the present end
	write("team-b")
	if out, err := exec.Command(bin, "--url", p.base, "catalog", "refresh", "component:default/tailed").CombinedOutput(); err != nil {
		t.Fatalf("refresh: %v %s", err, out)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case line := <-lines:
		var ev event.Envelope
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("tail printed %q: %v", line, err)
		}
		if ev.Subject != "component:default/tailed" || !strings.Contains(string(ev.Data), "team-b") {
			t.Fatalf("tail printed %s %s, want the owner change", ev.Subject, ev.Data)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("tail printed nothing after the change")
	}
}
