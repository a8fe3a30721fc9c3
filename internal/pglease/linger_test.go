package pglease_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"backlot.dev/backlot/internal/pglease"
)

// countingDB counts the statements a Lock sends.
type countingDB struct {
	pglease.DB
	n atomic.Int64
}

func (c *countingDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.n.Add(1)
	return c.DB.Exec(ctx, sql, args...)
}

func (c *countingDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n.Add(1)
	return c.DB.QueryRow(ctx, sql, args...)
}

// TestALingeringLeaseIsTakenBackWithoutAStatement: a lease released by a
// Lock with a Linger stays this holder's, so the next Acquire of the name
// takes it back at once, Continuous, without a statement, and another
// holder cannot claim it until Close frees it.
func TestALingeringLeaseIsTakenBackWithoutAStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	db := &countingDB{DB: pool}
	a := newLock(t, db, "a", pglease.Options{Linger: time.Hour})
	b := newLock(t, pool, "b", pglease.Options{})
	lease, err := a.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	lease.Release()
	if _, ok, err := b.Claim(ctx, "loc", 0); err != nil || ok {
		t.Fatalf("another holder claimed a lingering lease (%v)", err)
	}
	before := db.n.Load()
	for i := range 3 {
		lease, err = a.Acquire(ctx, "loc")
		if err != nil {
			t.Fatal(err)
		}
		if !lease.Continuous {
			t.Fatalf("take back %d: not continuous", i)
		}
		lease.Release()
		lease.Release() // a second release does nothing
	}
	if n := db.n.Load() - before; n != 0 {
		t.Fatalf("three takes back of a lingering lease sent %d statements, want 0", n)
	}
	a.Close()
	l, ok, err := b.Claim(ctx, "loc", 0)
	if err != nil || !ok {
		t.Fatalf("claim after Close freed the lingering lease: %v %v", ok, err)
	}
	if l.Continuous {
		t.Fatal("b's lease is continuous after a's")
	}
	l.Release()
	// A release after Close frees at once.
	lease, err = a.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	lease.Release()
	if l, ok, err := b.Claim(ctx, "loc", 0); err != nil || !ok {
		t.Fatalf("claim after a release past Close: %v %v", ok, err)
	} else {
		l.Release()
	}
}

// TestALingeringLeaseIsFreedAfterItsLinger: another holder waiting for the
// name gets it once the linger ends.
func TestALingeringLeaseIsFreedAfterItsLinger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{Linger: 50 * time.Millisecond})
	b := newLock(t, pool, "b", pglease.Options{PollEvery: 10 * time.Millisecond})
	lease, err := a.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	lease.Release()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	l, err := b.Acquire(wctx, "loc")
	if err != nil {
		t.Fatalf("the lingering lease was never freed: %v", err)
	}
	l.Release()
}

// TestClaimOfALingeringLeaseRespectsFreshness: a Claim by the holder of a
// lingering lease answers as the database's refreshed_at would: refused
// within fresh of the release, taken back after.
func TestClaimOfALingeringLeaseRespectsFreshness(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	a := newLock(t, pool, "a", pglease.Options{Linger: time.Hour})
	defer a.Close()
	lease, err := a.Acquire(ctx, "loc")
	if err != nil {
		t.Fatal(err)
	}
	lease.Release()
	if _, ok, err := a.Claim(ctx, "loc", time.Hour); err != nil || ok {
		t.Fatalf("claim of a name released just now within an hour succeeded (%v)", err)
	}
	time.Sleep(100 * time.Millisecond)
	l, ok, err := a.Claim(ctx, "loc", 50*time.Millisecond)
	if err != nil || !ok || !l.Continuous {
		t.Fatalf("claim of a name released 100ms ago, fresh 50ms: %v %v continuous %v", ok, err, l.Continuous)
	}
	l.Release()
}
