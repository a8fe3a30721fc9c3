package pgcatalog

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// replayIndexes are dropped as well by a replay into a fresh read model
// (BeginReplay), which no one reads until it is done: every index of entities
// but its primary key and entities_key, which the fold's own statements use
// (a batch's entities are looked up by key, replaced ones deleted by eid).
// Each costs a random insert per entity (entities_uid's keys are random
// UUIDs): with them, a component's entity row cost PostgreSQL 20.7 µs of CPU
// in a COPY, without them 4.7–6.5 µs; the four are then built in 0.23 s at
// 100,000 entities. entities_uid's uniqueness is checked by its build.
var replayIndexes = []bulkIndex{
	{"entities_uid", `CREATE UNIQUE INDEX IF NOT EXISTS entities_uid ON entities(uid)`},
	{"entities_kind_eid", `CREATE INDEX IF NOT EXISTS entities_kind_eid ON entities(kind, eid)`},
	{"entities_namespace_eid", `CREATE INDEX IF NOT EXISTS entities_namespace_eid ON entities(namespace, eid)`},
	{"entities_location", `CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id, managed_by)`},
}

// allBulkIndexes are the indexes a bulk load or a replay may have dropped,
// the ones whose builds take longest first (search_key_value).
var allBulkIndexes = append(append([]bulkIndex{}, bulkIndexes...), replayIndexes...)

// bulkTables are the tables a bulk load fills: autovacuum leaves them alone
// until EndBulk (it would scan each table again and again as it grows, for
// statistics EndBulk's ANALYZE gathers once).
var bulkTables = []string{"entities", "search", "relations", "search_keys"}

// bulkMaintenanceMem is the maintenance_work_mem of an index rebuild: enough
// for the sort of a search index of a few hundred thousand entities in memory.
const bulkMaintenanceMem = "256MB"

// bulkBuilders is how many indexes EndBulk builds at once, each on a
// connection of its own.
const bulkBuilders = 2

// BeginBulk drops the indexes a fold updates at random places (see
// bulkIndexes) and pauses autovacuum on the tables a fold fills, so a long
// backlog is folded faster; its transactions commit without waiting for the
// WAL's flush. EndBulk builds the indexes again. Queries stay correct in
// between, only slower. The projector calls it only for a log of one
// partition; every Store of the database sees the indexes gone. A store
// opened after a crash in bulk mode builds them again.
func (s *Store) BeginBulk(ctx context.Context) error {
	return s.beginBulk(ctx, bulkIndexes)
}

// BeginReplay is BeginBulk for a replay into a fresh read model that no one
// reads until it is done (rebuild.PostgresCatalog): it drops the indexes of
// replayIndexes too. EndBulk builds them all.
func (s *Store) BeginReplay(ctx context.Context) error {
	return s.beginBulk(ctx, allBulkIndexes)
}

// beginBulk drops the indexes of drop, pauses autovacuum of the bulk tables
// and sets the store's bulk mode.
func (s *Store) beginBulk(ctx context.Context, drop []bulkIndex) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): begin bulk: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, ix := range drop {
		if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return fmt.Errorf("catalog store (postgres): begin bulk: drop %s: %w", ix.name, err)
		}
	}
	for _, t := range bulkTables {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` SET (autovacuum_enabled = false)`); err != nil {
			return fmt.Errorf("catalog store (postgres): begin bulk: pause autovacuum of %s: %w", t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("catalog store (postgres): begin bulk: %w", err)
	}
	s.bulk.Store(true)
	return nil
}

// EndBulk builds the indexes BeginBulk or BeginReplay dropped, each with one
// sort, two at a time, resumes autovacuum and refreshes the planner's
// statistics of the tables the load filled.
func (s *Store) EndBulk(ctx context.Context) error {
	if err := ensureIndexes(ctx, s.pool); err != nil {
		return fmt.Errorf("catalog store (postgres): end bulk: %w", err)
	}
	s.bulk.Store(false)
	return nil
}

// ensureIndexes builds the bulk indexes that are missing and resumes the
// autovacuum a bulk load paused; it does nothing, in a few milliseconds, when
// nothing is missing or paused.
func ensureIndexes(ctx context.Context, pool *pgxpool.Pool) error {
	names := make([]string, len(allBulkIndexes))
	for i, ix := range allBulkIndexes {
		names[i] = ix.name
	}
	rows, err := pool.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n
		WHERE to_regclass(quote_ident(n)) IS NULL`, names)
	if err != nil {
		return err
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	rows, err = pool.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n
		JOIN pg_class c ON c.oid = to_regclass(quote_ident(n))
		WHERE c.reloptions && ARRAY['autovacuum_enabled=false', 'autovacuum_enabled=off']`, bulkTables)
	if err != nil {
		return err
	}
	paused, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(missing) == 0 && len(paused) == 0 {
		return err
	}
	var todo []bulkIndex
	for _, ix := range allBulkIndexes {
		for _, m := range missing {
			if m == ix.name {
				todo = append(todo, ix)
			}
		}
	}
	// The builds run side by side, each in a transaction of its own: two
	// CREATE INDEX of one table share its lock.
	work := make(chan bulkIndex)
	errs := make([]error, bulkBuilders)
	var wg sync.WaitGroup
	for w := range bulkBuilders {
		wg.Go(func() {
			for ix := range work {
				if errs[w] == nil {
					errs[w] = buildIndex(ctx, pool, ix)
				}
			}
		})
	}
	for _, ix := range todo {
		work <- ix
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Statistics of the tables that grew while unindexed, for the plans of the
	// queries that follow, then autovacuum as usual.
	if err := analyzeTables(ctx, pool); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	for _, t := range bulkTables {
		id := pgx.Identifier{t}.Sanitize()
		if _, err := pool.Exec(ctx, `ALTER TABLE `+id+` RESET (autovacuum_enabled)`); err != nil {
			return fmt.Errorf("resume autovacuum of %s: %w", t, err)
		}
	}
	return nil
}

// buildIndex creates ix in a transaction of its own.
func buildIndex(ctx context.Context, pool *pgxpool.Pool, ix bulkIndex) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '`+bulkMaintenanceMem+`'`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ix.create); err != nil {
		return fmt.Errorf("create index %s: %w", ix.name, err)
	}
	return tx.Commit(ctx)
}
