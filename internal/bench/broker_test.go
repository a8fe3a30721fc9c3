package bench

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// TestBrokerHelperServesKafka builds the kafkabroker helper (no helper beside
// the given binary), starts it, writes and reads an event through it with the
// Kafka log, and checks that closing the bench's end stops it.
func TestBrokerHelperServesKafka(t *testing.T) {
	b, err := startBroker("", t.TempDir()+"/backlot", io.Discard, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if len(b.addrs) != 1 {
		t.Fatalf("helper brokers %v, want one", b.addrs)
	}
	ctx := t.Context()
	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: b.addrs, TopicPrefix: "helper.", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	evs := logtest.MakeEnvelopes("helper", 2, 64)
	if _, err := log.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := log.ReadPartition(ctx, 0, 0, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d events back (%v), want 2", len(got), err)
	}
	for i := range evs {
		if d := logtest.Diff(evs[i], got[i]); d != "" {
			t.Fatalf("event %d: %s", i, d)
		}
	}
	log.Close()

	proc := b.cmd.Process
	start := time.Now()
	b.close()
	if time.Since(start) > 5*time.Second {
		t.Errorf("the helper took %v to stop after its standard input closed", time.Since(start))
	}
	if err := proc.Signal(nil); err == nil {
		t.Error("the helper still runs after close")
	}
	if b.tmp != "" {
		t.Errorf("the built helper's folder %s was not removed", b.tmp)
	}
}

// TestBrokerHelperBesideBinary takes the helper found beside the backlot
// binary, as make bench-production places it, instead of building one.
func TestBrokerHelperBesideBinary(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, BrokerHelperName), brokerHelperPackage).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := startBroker("", filepath.Join(dir, "backlot"), io.Discard, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if b.tmp != "" || b.cmd.Path != filepath.Join(dir, BrokerHelperName) {
		t.Fatalf("started %s (built in %q), want the helper beside the binary", b.cmd.Path, b.tmp)
	}
	if len(b.addrs) != 1 || !strings.Contains(b.addrs[0], ":") {
		t.Fatalf("brokers %v, want one HOST:PORT", b.addrs)
	}
}

// TestBrokerHelperThatSaysNothing fails with the helper's name when the
// program does not announce its brokers.
func TestBrokerHelperThatSaysNothing(t *testing.T) {
	helper, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	_, err = startBroker(helper, "/nonexistent/backlot", io.Discard, t.Logf)
	if err == nil || !strings.Contains(err.Error(), helper) {
		t.Fatalf("startBroker with %s = %v, want an error naming it", helper, err)
	}
}
