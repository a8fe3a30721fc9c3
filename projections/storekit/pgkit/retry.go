package pgkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RetryTx runs fn in a transaction of pool and commits it. When fn or the
// commit fails on a serialization failure, a deadlock or a unique key a
// concurrent transaction took, it runs a new transaction, up to attempts runs
// in all, pausing 10 ms, 20 ms, 40 ms … plus up to 10 ms at random before each
// new run. Other errors, a server that is down among them, end it at once; a
// transaction that is not committed is rolled back, so it writes nothing.
//
// fn's errors are returned as fn made them. The others name what (the store,
// for one): "what: begin: …", "what: commit: …", and, when ctx ends during a
// pause, "what: apply: ctx's error (after the last failure)".
func RetryTx(ctx context.Context, pool *pgxpool.Pool, attempts int, what string, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = runTx(ctx, pool, what, fn)
		if err == nil || !retryable(err) || attempt >= attempts {
			return err
		}
		pause := time.Duration(5<<attempt)*time.Millisecond + time.Duration(rand.IntN(10))*time.Millisecond
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: apply: %w (after %v)", what, ctx.Err(), err)
		case <-time.After(pause):
		}
	}
}

// runTx runs fn in one transaction and commits it.
func runTx(ctx context.Context, pool *pgxpool.Pool, what string, fn func(tx pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// retryable reports an error that running the transaction again may not meet.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
		return true
	}
	return false
}
