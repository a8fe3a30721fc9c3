//go:build !unix

package gitsource

import "context"

// lockFile does nothing where flock is not available: Readers in one process are
// still serialised by their in-process lock, and git's own ref locks keep the
// cache consistent (a read that loses a race fails and can be retried).
func lockFile(ctx context.Context, name string) (func(), error) {
	return func() {}, nil
}
