package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWorkDir(t *testing.T) {
	dir, cleanup, err := workDir("", "backlot-workdir-test-", false)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != filepath.Clean(os.TempDir()) || !filepath.IsAbs(dir) {
		t.Errorf("workDir made %s, want a new folder in %s", dir, os.TempDir())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the work folder is not there: %v", err)
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s (%v)", dir, err)
	}

	given := t.TempDir()
	dir, cleanup, err = workDir(given, "unused-", true)
	if err != nil || dir != given {
		t.Fatalf("workDir(%s) = %s, %v; want the given folder", given, dir, err)
	}
	cleanup()
	if _, err := os.Stat(given); err != nil {
		t.Errorf("cleanup removed a kept folder: %v", err)
	}
	_, cleanup, _ = workDir(given, "unused-", false)
	cleanup()
	if _, err := os.Stat(given); !os.IsNotExist(err) {
		t.Errorf("cleanup left the given folder though it was not kept (%v)", err)
	}
}

func TestSetDefaultsKeepsWhatIsSet(t *testing.T) {
	o := SoakOptions{Readers: 3, SampleEvery: time.Minute}
	o.setDefaults()
	if o.Readers != 3 || o.SampleEvery != time.Minute {
		t.Errorf("set options changed: Readers %d, SampleEvery %v", o.Readers, o.SampleEvery)
	}
	if o.Writers != 20 || o.Duration != 10*time.Minute || o.Seed != 1 || o.Progress == nil {
		t.Errorf("unset options did not take their defaults: %+v", o)
	}
}
