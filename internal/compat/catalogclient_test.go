package compat_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
)

// TestBackstageCatalogClient starts backlot dev with the example catalog and runs
// the node test suite that drives it with @backstage/catalog-client. make test
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
	scratch := t.TempDir()
	d, err := app.StartDev(context.Background(), app.DevConfig{
		DataDir:         t.TempDir(),
		Addr:            "127.0.0.1:0",
		Catalogs:        []string{filepath.Join(examples, "all.yaml")},
		Roots:           []string{scratch},
		RefreshInterval: time.Hour,
		Logger:          quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	select {
	case <-d.Loaded():
	case <-time.After(time.Minute):
		t.Fatal("example catalog not loaded within a minute")
	}
	if err := d.LoadErr(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BACKLOT_URL=http://"+d.Addr(),
		"BACKLOT_EXAMPLES="+examples,
		"BACKLOT_SCRATCH="+scratch,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the @backstage/catalog-client suite failed: %v", err)
	}
}
