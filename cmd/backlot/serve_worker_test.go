package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestServeWorkerRunsTasks runs the production shape: `backlot temporal
// serve`, an api+projector+ingester process and a separate worker process
// on Kafka and PostgreSQL. A task created through the api runs on the
// worker and its component is readable through the api when it ends.
func TestServeWorkerRunsTasks(t *testing.T) {
	bin := buildBinary(t)
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	dbURL := pgtest.URL(t)
	root := t.TempDir()
	tp, _ := freePort()
	temporal := "127.0.0.1:" + strconv.Itoa(tp)
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "BACKLOT_SECRETS_KEY="+testKey)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
		return cmd
	}
	start("temporal", "serve", "--db", filepath.Join(root, "temporal.db"), "--addr", temporal)
	waitReady := func(base string) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready: %v", base, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	common := []string{"--kafka-brokers", strings.Join(brokers, ","), "--postgres-url", dbURL, "--topic-prefix", prefix,
		"--group", prefix + "projector", "--partitions", "3", "--replication-factor", "1", "--temporal-address", temporal,
		"--data", filepath.Join(root, "data"), "--log-format", "text"}
	example, _ := filepath.Abs("../../examples/templates/go-service/template.yaml")
	ap, _ := freePort()
	api := "http://127.0.0.1:" + strconv.Itoa(ap)
	// The Temporal server may still be starting: the api and worker dial it
	// once it answers, so wait for its port first.
	deadline := time.Now().Add(60 * time.Second)
	for !portOpen(temporal) {
		if time.Now().After(deadline) {
			t.Fatal("backlot temporal serve did not listen")
		}
		time.Sleep(50 * time.Millisecond)
	}
	start(append([]string{"serve", "--roles", "api,projector,ingester", "--insecure-no-auth", "--addr", "127.0.0.1:" + strconv.Itoa(ap), "--catalog", example}, common...)...)
	wp, _ := freePort()
	start(append([]string{"serve", "--roles", "worker", "--addr", "127.0.0.1:" + strconv.Itoa(wp)}, common...)...)
	waitReady(api)
	waitReady("http://127.0.0.1:" + strconv.Itoa(wp))
	d := &workflowDev{base: api}
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, status := getEntity(t, api, "template", "go-service"); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the template never reached the catalog")
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := d.backlot(t, bin, "scaffold", "run", "go-service", "--set", "name=orders", "--set", "owner=group:default/team-a",
		"--set", "repoUrl=local?owner=team-a&repo=orders", "--secret", "token=s3cr3t-serve")
	if err != nil {
		t.Fatalf("scaffold run on serve: %v\n%s", err, out)
	}
	if e, status := getEntity(t, api, "component", "orders"); status != http.StatusOK || e["spec"].(map[string]any)["owner"] != "group:default/team-a" {
		t.Fatalf("component on serve: %d %v", status, e)
	}
	if got := gitShowFile(t, filepath.Join(root, "data/repos/team-a/orders.git"), "go.mod"); !strings.Contains(got, "example.com/team-a/orders") {
		t.Fatalf("go.mod %q", got)
	}
	recordHistories(t, temporal, "serve")
}

// portOpen reports whether something listens at addr.
func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
