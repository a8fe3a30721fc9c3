package datadir

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DirMode is the mode of the data folder and the folders Secure tightens.
const DirMode os.FileMode = 0o700

// private are the permission bits Secure removes: everything of the group
// and of others.
const private os.FileMode = 0o077

// Secure creates dir with DirMode when it is missing and tightens what is
// there: dir itself is made DirMode, and every folder and file under it
// loses its group and other permission bits (a 0644 database becomes 0600,
// an 0755 git hook 0700, a 0444 git object 0400). Symbolic links are
// neither followed nor changed. Errors name the path.
func Secure(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("data folder %s: %w", dir, err)
	}
	if err := os.Chmod(dir, DirMode); err != nil {
		return fmt.Errorf("data folder %s: %w", dir, err)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return fmt.Errorf("data folder %s: %w", p, err)
		}
		if d.Type()&fs.ModeSymlink != 0 || p == dir {
			return nil
		}
		fi, err := d.Info()
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("data folder %s: %w", p, err)
		}
		if perm := fi.Mode().Perm(); perm&private != 0 {
			if err := os.Chmod(p, perm&^private); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("data folder %s: %w", p, err)
			}
		}
		return nil
	})
}
