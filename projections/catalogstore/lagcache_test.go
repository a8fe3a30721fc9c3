package catalogstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/projections/catalogstore"
)

// bigSmall is a SmallFunc for a match set over any cap.
func bigSmall(context.Context, int) (any, bool, error) { return nil, false, nil }

func TestLagCacheBoundsBackgroundRecomputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := catalogstore.NewLagCache(catalogstore.LagOptions{ExactUpTo: 1, MaxLag: time.Minute, RefreshEvery: time.Nanosecond, MaxRefreshes: 2})
	release := make(chan struct{})
	var running, most atomic.Int64
	blocked := func(v int) catalogstore.FullFunc {
		return func(context.Context, int) (any, string, bool, error) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			running.Add(-1)
			return v, "g2", false, nil
		}
	}
	free := func(v int) catalogstore.FullFunc {
		return func(context.Context, int) (any, string, bool, error) { return v, "g1", false, nil }
	}
	for k := range 5 {
		if a, err := c.Get(ctx, fmt.Sprint(k), "g1", bigSmall, free(1)); err != nil || a.Value != 1 || a.Lagging {
			t.Fatalf("first answer %+v (%v), want 1, not lagging", a, err)
		}
	}
	// After a write (g2), five keys want a refresh; two run at once.
	for k := range 5 {
		if a, err := c.Get(ctx, fmt.Sprint(k), "g2", bigSmall, blocked(2)); err != nil || a.Value != 1 || !a.Lagging {
			t.Fatalf("answer after a write %+v (%v), want 1, lagging", a, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if m := most.Load(); m != 2 {
		t.Fatalf("%d background recomputes ran at once, want MaxRefreshes = 2", m)
	}
	if st := c.Stats(); st.Recomputes != 5+2 || st.Lagging != 5 {
		t.Fatalf("stats %+v, want 7 recomputes (5 first, 2 refreshes) and 5 lagging answers", st)
	}
}

func TestLagCacheKeepsAtMostMaxEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := catalogstore.NewLagCache(catalogstore.LagOptions{ExactUpTo: 10, MaxEntries: 3})
	calls := 0
	small := func(context.Context, int) (any, bool, error) { calls++; return calls, true, nil }
	for k := range 10 {
		if _, err := c.Get(ctx, fmt.Sprint(k), "g", small, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Of the ten keys, at most three are still answered without computing.
	// They are asked newest first: the last key asked is surely kept (a
	// new key evicts another), and a key computed again only evicts.
	before := calls
	for k := 9; k >= 0; k-- {
		if _, err := c.Get(ctx, fmt.Sprint(k), "g", small, nil); err != nil {
			t.Fatal(err)
		}
	}
	if kept := 10 - (calls - before); kept > 3 || kept < 1 {
		t.Fatalf("%d answers kept, want 1 to MaxEntries = 3", kept)
	}
}

func TestLagCacheFirstComputationErrorsReachEveryWaiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := catalogstore.NewLagCache(catalogstore.LagOptions{})
	boom := errors.New("boom")
	var calls atomic.Int64
	start := make(chan struct{})
	full := func(context.Context, int) (any, string, bool, error) {
		calls.Add(1)
		<-start
		return nil, "", false, boom
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Get(ctx, "k", "g", bigSmall, full)
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them queue behind one computation
	close(start)
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, boom) {
			t.Fatalf("errors %v, want boom for every request", errs)
		}
	}
	if n := calls.Load(); n < 1 || n > 4 {
		t.Fatalf("%d computations", n)
	}
	// A waiter whose request ends stops waiting.
	hold := make(chan struct{})
	defer close(hold)
	go c.Get(ctx, "slow", "g", bigSmall, func(context.Context, int) (any, string, bool, error) { <-hold; return 1, "g", false, nil })
	time.Sleep(10 * time.Millisecond)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	// (Were it not waiting yet, its own computation ends with its request.)
	own := func(ctx context.Context, _ int) (any, string, bool, error) {
		select {
		case <-hold:
			return 1, "g", false, nil
		case <-ctx.Done():
			return nil, "", false, ctx.Err()
		}
	}
	if _, err := c.Get(cctx, "slow", "g", bigSmall, own); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled waiter got %v, want context.Canceled", err)
	}
}
