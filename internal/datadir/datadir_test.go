package datadir_test

import (
	"os"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/datadir"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSecureCreatesAPrivateFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "nested")
	if err := datadir.Secure(dir); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Fatalf("a new data folder is %o, want 700", got)
	}
}

func TestSecureTightensAnExistingFolder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	outside := filepath.Join(t.TempDir(), "outside.txt")
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{"catalog.db", 0o644}, {"secrets.key", 0o666}, {"git/cache/objects/ab/cd", 0o444}, {"git/cache/hooks/pre-commit", 0o755},
	} {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, f.mode)
	}
	os.Chmod(dir, 0o755)
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := datadir.Secure(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		"": 0o700, "catalog.db": 0o600, "secrets.key": 0o600, "git": 0o700, "git/cache/objects/ab": 0o700,
		"git/cache/objects/ab/cd": 0o400, "git/cache/hooks/pre-commit": 0o700,
	} {
		if got := mode(t, filepath.Join(dir, p)); got != want {
			t.Errorf("%s is %o, want %o", p, got, want)
		}
	}
	if got := mode(t, outside); got != 0o644 {
		t.Errorf("a file outside, behind a symbolic link, changed to %o", got)
	}
}
