package pgcatalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bulkIndex is a secondary index a bulk load drops and rebuilds.
type bulkIndex struct{ name, create string }

// bulkIndexes are the indexes whose keys land at random places on every write:
// they cost most of a fold's time in PostgreSQL, while one sort rebuilds each
// at the end of a backlog. Readers can do without them, only slower. The
// statements are those of the migrations.
var bulkIndexes = []bulkIndex{
	{"search_key_value", `CREATE INDEX IF NOT EXISTS search_key_value ON search(kid, value, eid)`},
	{"relations_type_target", `CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target)`},
	{"relations_target", `CREATE INDEX IF NOT EXISTS relations_target ON relations(target, lreverse)`},
	{"entities_kind_name", `CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name)`},
	{"entities_name_key", `CREATE INDEX IF NOT EXISTS entities_name_key ON entities(name, key)`},
}

// bulkMaintenanceMem is the maintenance_work_mem of an index rebuild: enough
// for the sort of a search index of a few hundred thousand entities in memory.
const bulkMaintenanceMem = "256MB"

// BeginBulk drops the indexes a fold updates at random places (see
// bulkIndexes), so a long backlog is folded faster; EndBulk builds them again.
// Queries stay correct in between, only slower. The projector calls it only
// for a log of one partition; every Store of the database sees the indexes
// gone. A store opened after a crash in bulk mode builds them again.
func (s *Store) BeginBulk(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): begin bulk: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, ix := range bulkIndexes {
		if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return fmt.Errorf("catalog store (postgres): begin bulk: drop %s: %w", ix.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("catalog store (postgres): begin bulk: %w", err)
	}
	s.bulk.Store(true)
	return nil
}

// EndBulk builds the indexes BeginBulk dropped, each with one sort, and
// refreshes the planner's statistics of the tables they index.
func (s *Store) EndBulk(ctx context.Context) error {
	if err := ensureIndexes(ctx, s.pool); err != nil {
		return fmt.Errorf("catalog store (postgres): end bulk: %w", err)
	}
	s.bulk.Store(false)
	return nil
}

// ensureIndexes builds the bulk indexes that are missing; it does nothing, in
// a few milliseconds, when none is.
func ensureIndexes(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	names := make([]string, len(bulkIndexes))
	for i, ix := range bulkIndexes {
		names[i] = ix.name
	}
	rows, err := tx.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n
		WHERE to_regclass(quote_ident(n)) IS NULL`, names)
	if err != nil {
		return err
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(missing) == 0 {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '`+bulkMaintenanceMem+`'`); err != nil {
		return err
	}
	tables := map[string]bool{}
	for _, ix := range bulkIndexes {
		for _, m := range missing {
			if m == ix.name {
				if _, err := tx.Exec(ctx, ix.create); err != nil {
					return fmt.Errorf("create index %s: %w", ix.name, err)
				}
				var table string
				if err := tx.QueryRow(ctx, `SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = to_regclass(quote_ident($1))`, ix.name).Scan(&table); err != nil {
					return fmt.Errorf("create index %s: %w", ix.name, err)
				}
				tables[table] = true
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// Statistics of the tables that grew while unindexed, for the plans of the
	// queries that follow.
	for t := range tables {
		if _, err := pool.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nil
}
