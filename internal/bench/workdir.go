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
