package asof_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// slowHistory holds every build in Current until release is closed.
type slowHistory struct {
	history.Reader
	started chan struct{}
	release chan struct{}
}

func (h *slowHistory) Current(ctx context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	if after == "" {
		h.started <- struct{}{}
		<-h.release
	}
	return h.Reader.Current(ctx, at, after, limit)
}

func TestBuildsAtOnceAreCapped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 20, 2), 100)
	slow := &slowHistory{Reader: hist, started: make(chan struct{}, 8), release: make(chan struct{})}
	cats, err := asof.New(slow, filepath.Join(dir, "asof"), asof.MaxBuilding(2))
	if err != nil {
		t.Fatal(err)
	}
	defer cats.Close()
	ctx := context.Background()
	at := func(p int64) history.Instant { return history.AtPositions(event.Positions{0: p}) }

	done := make(chan error, 2)
	for _, p := range []int64{5, 10} {
		go func() { _, err := cats.At(ctx, at(p)); done <- err }()
	}
	for range 2 {
		select {
		case <-slow.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the two builds did not start")
		}
	}
	start := time.Now()
	_, err = cats.At(ctx, at(15))
	var busy *asof.BusyError
	if !errors.As(err, &busy) || busy.Limit != 2 || busy.RetryAfter <= 0 || fault.Of(err) != fault.Unavailable {
		t.Fatalf("a third build: %v, want a BusyError of limit 2 that is fault.Unavailable", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("refused after %s, want at once", time.Since(start))
	}
	close(slow.release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// With the builds done the refused instant builds.
	if _, err := cats.At(ctx, at(15)); err != nil {
		t.Fatalf("after the builds: %v", err)
	}
}

// TestRefusedInstantsEvictNoBuild is what the security suite's burst of asOf
// reads found: refused instants stayed in the eviction order, so further
// reads evicted a missing entry (a nil dereference) or closed and removed a
// read model still being built (disk I/O errors). With two builds held, many
// refused instants leave both builds whole, and every store built stays
// readable.
func TestRefusedInstantsEvictNoBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	histtest.ApplyInBatches(t, hist, histtest.BenchEvents(t, 20, 2), 100)
	slow := &slowHistory{Reader: hist, started: make(chan struct{}, 64), release: make(chan struct{})}
	cats, err := asof.New(slow, filepath.Join(dir, "asof"), asof.MaxBuilding(2))
	if err != nil {
		t.Fatal(err)
	}
	defer cats.Close()
	ctx := context.Background()
	at := func(p int64) history.Instant { return history.AtPositions(event.Positions{0: p}) }
	done := make(chan error, 2)
	for _, p := range []int64{5, 10} {
		go func() {
			r, err := cats.At(ctx, at(p))
			if err == nil {
				_, err = r.Query(ctx, catalogstore.PageQuery{})
			}
			done <- err
		}()
	}
	for range 2 {
		<-slow.started
	}
	for p := int64(11); p < 30; p++ {
		var busy *asof.BusyError
		if _, err := cats.At(ctx, at(p)); !errors.As(err, &busy) {
			t.Fatalf("instant %d: %v, want a BusyError", p, err)
		}
	}
	close(slow.release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("a build under way while others were refused: %v", err)
		}
	}
	// Beyond the kept few, read after read: each store answers.
	for p := int64(11); p < 30; p++ {
		r, err := cats.At(ctx, at(p))
		if err != nil {
			t.Fatalf("instant %d: %v", p, err)
		}
		if _, err := r.Query(ctx, catalogstore.PageQuery{}); err != nil {
			t.Fatalf("instant %d: %v", p, err)
		}
	}
}
