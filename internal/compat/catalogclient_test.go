package compat_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestBackstageCatalogClient starts backlot dev, and backlot serve on Kafka and
// PostgreSQL, with the example catalog and runs the node test suite that drives
// each with @backstage/catalog-client. make test
// installs the npm packages (npm ci) before it runs.
func TestBackstageCatalogClient(t *testing.T) {
	dir, err := filepath.Abs("catalogclient")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@backstage", "catalog-client")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	examples, err := filepath.Abs("../../examples/catalog")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"dev", "serve"} {
		t.Run(mode, func(t *testing.T) {
			scratch := t.TempDir()
			srv := startServer(t, mode, filepath.Join(examples, "all.yaml"), scratch)
			runNodeSuite(t, dir, srv.Addr(), examples, scratch)
		})
	}
}

// server is a running Backlot of either mode.
type server interface {
	Addr() string
	Loaded() <-chan struct{}
	LoadErr() error
	Close() error
}

// startServer starts backlot dev on embedded stores, or backlot serve with every
// role on Kafka (the in-process broker, or BACKLOT_TEST_KAFKA_BROKERS) and a
// fresh PostgreSQL database, loaded with the catalog.
func startServer(t *testing.T, mode, catalogFile, scratch string) server {
	t.Helper()
	var (
		srv server
		err error
	)
	switch mode {
	case "dev":
		srv, err = app.StartDev(context.Background(), app.DevConfig{
			DataDir:         t.TempDir(),
			Addr:            "127.0.0.1:0",
			Catalogs:        []string{catalogFile},
			Roots:           []string{scratch},
			RefreshInterval: time.Hour,
			Logger:          quietLogger(),
		})
	case "serve":
		prefix := kafkatest.TopicPrefix(t)
		srv, err = app.StartServe(context.Background(), app.ServeConfig{
			Addr:              "127.0.0.1:0",
			KafkaBrokers:      kafkatest.Brokers(t),
			TopicPrefix:       prefix,
			Group:             prefix + "projector",
			Partitions:        6,
			ReplicationFactor: 1,
			PostgresURL:       pgtest.URL(t),
			Catalogs:          []string{catalogFile},
			Roots:             []string{scratch},
			RefreshInterval:   time.Hour,
			DataDir:           t.TempDir(),
			Logger:            quietLogger(),
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	select {
	case <-srv.Loaded():
	case <-time.After(time.Minute):
		t.Fatal("example catalog not loaded within a minute")
	}
	if err := srv.LoadErr(); err != nil {
		t.Fatal(err)
	}
	return srv
}

// runNodeSuite runs the node tests that drive the server at addr with
// @backstage/catalog-client.
func runNodeSuite(t *testing.T, dir, addr, examples, scratch string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BACKLOT_URL=http://"+addr,
		"BACKLOT_EXAMPLES="+examples,
		"BACKLOT_SCRATCH="+scratch,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the @backstage/catalog-client suite failed: %v", err)
	}
}
