//go:build unix

package gitsource

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often lockFile retries a lock held by another process.
const lockPoll = 20 * time.Millisecond

// lockFile takes an exclusive flock on the file name (created if missing), so
// Readers in other processes sharing the cache wait for each other. It polls until
// the lock is free or ctx ends. The returned function releases it.
func lockFile(ctx context.Context, name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
