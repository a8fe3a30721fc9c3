package pglease_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/internal/pglease"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newPool returns a pool on a fresh database.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgkit.NewPool(pgtest.URL(t), 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newLock(t *testing.T, db pglease.DB, holder string, opts pglease.Options) *pglease.Lock {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	l, err := pglease.New(context.Background(), db, holder, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTwoHoldersNeverHoldOneNameAtOnce(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	locks := []*pglease.Lock{
		newLock(t, pool, "a", pglease.Options{PollEvery: 5 * time.Millisecond}),
		newLock(t, pool, "b", pglease.Options{PollEvery: 5 * time.Millisecond}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var inside, most, entries atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(l *pglease.Lock) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				lease, err := l.Acquire(ctx, "location-1")
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				entries.Add(1)
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				lease.Release()
			}
		}(locks[g%2])
	}
	wg.Wait()
	if most.Load() != 1 || entries.Load() != 40 {
		t.Fatalf("%d holders at once at most, %d entries; want 1 and 40", most.Load(), entries.Load())
	}
	// Other names are independent.
	a, err := locks[0].Acquire(ctx, "location-2")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	b, ok, err := locks[1].Claim(ctx, "location-3", 0)
	if err != nil || !ok {
		t.Fatalf("claim of another name: %v %v", ok, err)
	}
	b.Release()
}

func TestClaimRespectsFreshness(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{})
	b := newLock(t, pool, "b", pglease.Options{})

	lease, ok, err := a.Claim(ctx, "loc", time.Hour)
	if err != nil || !ok {
		t.Fatalf("claim of a never refreshed name: %v %v", ok, err)
	}
	if _, ok, err := b.Claim(ctx, "loc", 0); err != nil || ok {
		t.Fatalf("claim of a held name succeeded (%v)", err)
	}
	lease.Release()
	if _, ok, err := b.Claim(ctx, "loc", time.Hour); err != nil || ok {
		t.Fatalf("claim of a name refreshed just now within an hour succeeded (%v)", err)
	}
	time.Sleep(300 * time.Millisecond)
	lease, ok, err = b.Claim(ctx, "loc", 200*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("claim of a name refreshed 300ms ago, fresh 200ms: %v %v", ok, err)
	}
	if lease.Continuous {
		t.Fatal("b's lease is continuous after a's refresh")
	}
	lease.Release()
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	// dead never renews: its process "died" holding the lease.
	dead := newLock(t, pool, "dead", pglease.Options{TTL: 700 * time.Millisecond, RenewEvery: time.Hour})
	alive := newLock(t, pool, "alive", pglease.Options{PollEvery: 20 * time.Millisecond})
	third := newLock(t, pool, "third", pglease.Options{})

	old, err := dead.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	lease, err := alive.Acquire(wctx, "loc")
	if err != nil {
		t.Fatalf("the expired lease was not taken over: %v", err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Fatalf("took the lease over after %v, before it expired", waited)
	}
	if lease.Continuous {
		t.Fatal("a lease taken over from another holder is continuous")
	}
	// The dead holder's late release does not free the new holder's lease.
	old.Release()
	if _, ok, err := third.Claim(ctx, "loc", 0); err != nil || ok {
		t.Fatalf("a stale release freed another holder's lease (%v)", err)
	}
	lease.Release()
}

func TestRenewalKeepsALeasePastItsTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{TTL: 400 * time.Millisecond, RenewEvery: 50 * time.Millisecond})
	b := newLock(t, pool, "b", pglease.Options{})
	lease, err := a.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		time.Sleep(200 * time.Millisecond)
		if _, ok, err := b.Claim(ctx, "loc", 0); err != nil || ok {
			t.Fatalf("after %dms another holder claimed a renewed lease (%v)", (i+1)*200, err)
		}
	}
	lease.Release()
	if l, ok, err := b.Claim(ctx, "loc", 0); err != nil || !ok {
		t.Fatalf("claim after release: %v %v", ok, err)
	} else {
		l.Release()
	}
}

func TestContinuousWhenTheSameHolderHeldItLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{})
	b := newLock(t, pool, "b", pglease.Options{})
	steps := []struct {
		lock *pglease.Lock
		want bool
	}{{a, false}, {a, true}, {b, false}, {b, true}, {a, false}}
	for i, s := range steps {
		lease, err := s.lock.Acquire(ctx, "loc")
		if err != nil {
			t.Fatal(err)
		}
		if lease.Continuous != s.want {
			t.Fatalf("step %d (%s): continuous %v, want %v", i, s.lock.Holder(), lease.Continuous, s.want)
		}
		lease.Release()
		lease.Release() // a second release does nothing
	}
}

func TestAcquireEndsWithItsContext(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{})
	b := newLock(t, pool, "b", pglease.Options{})
	lease, err := a.Acquire(context.Background(), "loc")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := b.Acquire(ctx, "loc"); err == nil {
		t.Fatal("acquired a held lease")
	}
}

func TestNewHoldersMigrateOnce(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pglease.New(context.Background(), pool, "", pglease.Options{Logger: quiet})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent New: %v", err)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations WHERE version LIKE 'pglease/%'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("pglease migrations recorded %d times (%v), want 1", n, err)
	}
}
