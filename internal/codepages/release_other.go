//go:build !linux

package codepages

// Release drops nothing outside Linux: it returns Skipped "unsupported".
func Release() (Released, error) { return Released{Skipped: "unsupported"}, nil }
