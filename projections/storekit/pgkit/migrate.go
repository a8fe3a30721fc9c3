package pgkit

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
)

// MigrationLockKey is the key of the transaction-level advisory lock under which
// Backlot applies its PostgreSQL migrations (pg_advisory_xact_lock), so processes
// that start at once apply each migration once. Every Backlot package that
// migrates PostgreSQL takes the same lock.
const MigrationLockKey int64 = 0x4261636b6c6f7401 // "Backlot" and 1

// Migrate applies the migrations of fsys (files matching glob, in name order)
// that schema_migrations does not list yet, each recorded there under
// component/filename. It runs in one transaction holding the advisory lock
// MigrationLockKey, so concurrent callers wait and then find the work done.
func Migrate(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, component string, fsys fs.FS, glob string) error {
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	sort.Strings(names)
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: begin: %w", component, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, MigrationLockKey); err != nil {
		return fmt.Errorf("migrate %s: take the migration lock: %w", component, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate %s: create schema_migrations: %w", component, err)
	}
	for _, n := range names {
		version := component + "/" + n
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return fmt.Errorf("migrate %s: read schema_migrations: %w", component, err)
		}
		if done {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", component, err)
		}
		// Without arguments pgx sends the file in one simple-protocol message, so
		// it may hold several statements.
		if _, err := tx.Exec(ctx, string(b)); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations(version) VALUES ($1)`, version); err != nil {
			return fmt.Errorf("migrate %s: record %s: %w", component, version, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %s: commit: %w", component, err)
	}
	return nil
}
