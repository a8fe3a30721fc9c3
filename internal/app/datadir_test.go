package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/app"
)

// TestDevDataFolderIsPrivate starts dev on a data folder left readable by
// everyone, as an older Backlot made it: once started the folder is 0700
// and nothing in it (the databases, the secrets key, the git cache) keeps a
// group or other permission.
func TestDevDataFolderIsPrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(data, "git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "git", "old"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	d := startDev(t, app.DevConfig{DataDir: data, Catalogs: []string{examplesCatalog(t)}})
	defer d.Close()
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the data folder: %v %v, want 0700", fi.Mode().Perm(), err)
	}
	var files int
	err := filepath.WalkDir(data, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.Type()&fs.ModeSymlink != 0 {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s is %o: readable beyond its owner", p, perm)
		}
		if !e.IsDir() {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"events.db", "catalog.db", "webhooks.db", "secrets.key"} {
		if fi, err := os.Stat(filepath.Join(data, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want 0600", f, err)
		}
	}
	if files < 5 {
		t.Fatalf("only %d files under the data folder", files)
	}
}
