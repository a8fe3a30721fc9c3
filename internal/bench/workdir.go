package bench

import "os"

// workDir is the work folder of a run: dir, or a new temporary folder whose
// name starts with prefix when dir is empty. cleanup removes it, unless
// keep (then it does nothing).
func workDir(dir, prefix string, keep bool) (string, func(), error) {
	if dir == "" {
		d, err := os.MkdirTemp("", prefix)
		if err != nil {
			return "", nil, err
		}
		dir = d
	}
	if keep {
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// setDefault sets *p to def when *p is its type's zero value: an option left
// unset takes its default.
func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
