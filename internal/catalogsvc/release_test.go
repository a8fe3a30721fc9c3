package catalogsvc_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/internal/catalogsvc"
)

// slowLock is a LocationLock whose releases wait for the test.
type slowLock struct {
	mu sync.Mutex
	// held are the names whose lease is held and not released yet.
	held map[string]bool
	// overlapped says a lease was acquired while another was held.
	overlapped bool
	// releasing receives a value when a release starts; finish lets it end.
	releasing chan struct{}
	finish    chan struct{}
}

func (l *slowLock) Acquire(ctx context.Context, id string) (catalogsvc.Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		l.overlapped = true
	}
	l.held[id] = true
	finish := l.finish
	return catalogsvc.Lease{Continuous: true, Release: func() {
		l.releasing <- struct{}{}
		<-finish
		l.mu.Lock()
		l.held[id] = false
		l.mu.Unlock()
	}}, nil
}

func (l *slowLock) Claim(ctx context.Context, id string, fresh time.Duration) (catalogsvc.Lease, bool, error) {
	lease, err := l.Acquire(ctx, id)
	return lease, err == nil, err
}

// TestARefreshOfChangedFilesAnswersBeforeItsLeaseIsReleased refreshes a
// changed file with a lock whose release waits: RefreshFiles answers while
// the release is under way, and the next refresh of the location takes the
// lease only once it is released.
func TestARefreshOfChangedFilesAnswersBeforeItsLeaseIsReleased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lock := &slowLock{held: map[string]bool{}, releasing: make(chan struct{}, 4), finish: make(chan struct{})}
	e := newEnvWith(t, func(c *catalogsvc.Config) { c.Lock = lock })
	file := e.write(t, "svc.yaml", component("svc", "v1"))
	// The registration's lease is released at once.
	close(lock.finish)
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	<-lock.releasing
	<-lock.releasing
	lock.mu.Lock()
	lock.finish = make(chan struct{})
	finish := lock.finish
	lock.mu.Unlock()

	e.write(t, "svc.yaml", component("svc", "v2"))
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.RefreshFiles(ctx, res.Location, []string{file})
		done <- err
	}()
	<-lock.releasing
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RefreshFiles waited for its lease's release")
	}
	// The next refresh waits for the release before it takes the lease.
	e.write(t, "svc.yaml", component("svc", "v3"))
	go func() {
		_, err := e.svc.RefreshFiles(ctx, res.Location, []string{file})
		done <- err
	}()
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-lock.releasing
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if lock.overlapped {
		t.Fatal("the next refresh took the lease before the last one was released")
	}
}
