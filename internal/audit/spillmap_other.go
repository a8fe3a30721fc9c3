//go:build !unix

package audit

import (
	"errors"
	"os"
)

// mapSpill is not supported here: the spill file is read with ReadAt.
func mapSpill(f *os.File, size int64) ([]byte, error) { return nil, errors.ErrUnsupported }

// unmapSpill undoes mapSpill.
func unmapSpill(b []byte) error { return nil }
