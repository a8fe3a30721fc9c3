package pgcatalog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bulkIndex is an index a bulk load drops and rebuilds: create builds it
// again (statements run in one transaction), drop, when set, replaces the
// plain DROP INDEX of its name, and mem, when set, replaces
// bulkMaintenanceMem as the memory of its build's sort.
type bulkIndex struct{ name, create, drop, mem string }

// dropStatement is the statement that drops ix.
func (ix bulkIndex) dropStatement() string {
	if ix.drop != "" {
		return ix.drop
	}
	return `DROP INDEX IF EXISTS ` + pgx.Identifier{ix.name}.Sanitize()
}

// bulkIndexes are the indexes whose keys land at random places on every write:
// they cost most of a fold's time in PostgreSQL, while one sort rebuilds each
// at the end of a backlog. Readers can do without them, only slower. The
// statements are those of the migrations.
var bulkIndexes = []bulkIndex{
	{name: "search_key_value", create: `CREATE INDEX IF NOT EXISTS search_key_value ON search(kid, value, eid)`},
	{name: "relations_type_target", create: `CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target)`},
	{name: "relations_target", create: `CREATE INDEX IF NOT EXISTS relations_target ON relations(target, lreverse)`},
	{name: "entities_kind_name", create: `CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name)`},
	{name: "entities_name_key", create: `CREATE INDEX IF NOT EXISTS entities_name_key ON entities(name, key)`},
}

// replayIndexes are dropped as well by a replay into a fresh read model
// (BeginReplay), which no one reads until it is done: every index of entities
// but its primary key, which the fold's own statements use (replaced
// entities are deleted by eid), and entities_key, which a hash index on key
// stands in for (entitiesKeyIndex). Each costs a random insert per entity
// (entities_uid's keys are random UUIDs): with them, a component's entity row
// cost PostgreSQL 20.7 µs of CPU in a COPY, without them 4.7–6.5 µs; the four
// are then built in 0.23 s at 100,000 entities. entities_uid's uniqueness is
// checked by its build.
var replayIndexes = []bulkIndex{
	entitiesKeyIndex,
	{name: "entities_uid", create: `CREATE UNIQUE INDEX IF NOT EXISTS entities_uid ON entities(uid)`},
	{name: "entities_kind_eid", create: `CREATE INDEX IF NOT EXISTS entities_kind_eid ON entities(kind, eid)`},
	{name: "entities_namespace_eid", create: `CREATE INDEX IF NOT EXISTS entities_namespace_eid ON entities(namespace, eid)`},
	{name: "entities_location", create: `CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id, managed_by)`},
}

// entitiesKeyIndex is entities' unique index on key, which a replay into a
// fresh read model (BeginReplay) replaces by a hash index on key
// (entities_key_replay) until EndBulk builds it again by one sort and drops
// the hash index. A batch looks its entities up by key (loadEntitiesSQL):
// probing a hash index compares no texts and its inserts land in the bucket
// of a key's hash instead of descending a tree of long keys. Replaying
// 100,000 components (bench replay's), the look-up cost PostgreSQL 2.5–2.75 µs
// of CPU an event with the tree and 1.0 µs with the hash, and the COPY of the
// entity row 11.5 µs and 8.8. Keys stay unique during a replay as they do
// during any fold (a batch inserts only the keys its look-up did not find,
// and an entity's events are all in one partition), and the build checks it.
var entitiesKeyIndex = bulkIndex{
	name:   "entities_key",
	create: `CREATE UNIQUE INDEX IF NOT EXISTS entities_key ON entities(key)`,
	drop: `CREATE INDEX IF NOT EXISTS ` + entitiesKeyReplay + ` ON entities USING hash (key);
		DROP INDEX IF EXISTS entities_key`,
}

// entitiesKeyReplay is the hash index on entities' key that stands in for
// entities_key during a replay.
const entitiesKeyReplay = "entities_key_replay"

// searchKeyIndex is search's primary key (eid, kid, value), which a replay
// into a fresh read model (BeginReplay) drops: search then has no index at
// all while the replay folds, and the rows of entities a batch rewrites are
// set aside instead of replacing the old ones in place (replaysearch.go). A
// search row so costs PostgreSQL its heap insert alone, where the key cost a
// descent of its tree comparing texts, and even a plain index on eid cost a
// descent of its own (inserting 900,000 search rows, 100,000 components, in
// the order a replay writes them: 0.5 s with no index, 1.5 s with an index on
// eid, 3.0 s with the key). The key is built by one sort at the end, which
// also checks its uniqueness.
//
// Its build sorts rows that come mostly in eid order already, in runs of
// searchKeyMaintenanceMem.
var searchKeyIndex = bulkIndex{
	name: "search_pkey",
	mem:  searchKeyMaintenanceMem,
	create: `CREATE UNIQUE INDEX search_pkey ON search(eid, kid, value);
		ALTER TABLE search ADD CONSTRAINT search_pkey PRIMARY KEY USING INDEX search_pkey`,
	drop: createSetAsideTables + `;
		ALTER TABLE search DROP CONSTRAINT IF EXISTS search_pkey`,
}

// relationsOriginIndex is relations' index on origin, which a replay drops
// too, and for the same reason: the fold uses it only to delete the rows of
// an entity it rewrites, which a replay sets aside (replaysearch.go).
var relationsOriginIndex = bulkIndex{name: "relations_origin", create: `CREATE INDEX IF NOT EXISTS relations_origin ON relations(origin)`}

// replayDrops are the indexes BeginReplay drops: bulkIndexes, replayIndexes,
// search's primary key and relations_origin.
var replayDrops = append(append(append([]bulkIndex{}, bulkIndexes...), replayIndexes...), searchKeyIndex, relationsOriginIndex)

// allBulkIndexes are the indexes a bulk load or a replay may have dropped,
// the ones whose builds take longest first (search's two).
var allBulkIndexes = append(append([]bulkIndex{bulkIndexes[0], searchKeyIndex}, bulkIndexes[1:]...), append(replayIndexes, relationsOriginIndex)...)

// bulkTables are the tables a bulk load fills: autovacuum leaves them alone
// until EndBulk (it would scan each table again and again as it grows, for
// statistics EndBulk's ANALYZE gathers once).
var bulkTables = []string{"entities", "search", "relations", "search_keys"}

// analyzeOrder is bulkTables in the order EndBulk analyzes them, after the
// index builds: search's indexes are built first and entities' last but
// relations_origin.
var analyzeOrder = []string{"search", "search_keys", "entities", "relations"}

// bulkMaintenanceMem is the maintenance_work_mem of an index rebuild: small,
// so the sort runs in chunks that stay in the CPU's caches and then merges
// them, where one sort in memory of the whole index chases pointers across
// a hundred megabytes at each comparison. At 100,000 components (900,000
// search rows), building search_key_value took 1.1-1.2 s of PostgreSQL's
// CPU with 2-4 MB against 2.1-2.35 s with 256 MB (1.6-1.8 s in all with two
// parallel workers), relations_target 0.24 against 0.40 s and
// relations_type_target 0.33 against 0.49 s; the others alike either way.
// 1 MB, PostgreSQL's least, is the size of a core's second-level cache on
// the 2-core machine of the benchmarks: at 100,000 components (700,000
// search rows), three builds of each against 4 MB, interleaved, under load
// 23-34, PostgreSQL CPU in ms summed over the three: search_key_value 3,190
// -> 2,910, relations_type_target 1,360 -> 1,040, relations_target 950 ->
// 870, entities_kind_name 660 -> 570, relations_origin 590 -> 540,
// entities_uid 480 -> 460; search_pkey alone the other way, 1,510 -> 1,650
// (searchKeyMaintenanceMem). At 1,000,000 entities the merge takes two
// passes instead of one.
const bulkMaintenanceMem = "1MB"

// searchKeyMaintenanceMem is the maintenance_work_mem of search_pkey's build,
// whose rows come nearly sorted (see bulkMaintenanceMem).
const searchKeyMaintenanceMem = "4MB"

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
// replayIndexes too, and search's primary key (searchKeyIndex): until
// EndBulk, the store sets aside the search rows of the entities a batch
// rewrites (replaysearch.go). EndBulk puts them in place and builds the
// indexes.
func (s *Store) BeginReplay(ctx context.Context) error {
	if err := s.beginBulk(ctx, replayDrops); err != nil {
		return err
	}
	s.replay.Store(true)
	return nil
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
		if _, err := tx.Exec(ctx, ix.dropStatement()); err != nil {
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
// statistics of the tables the load filled, from a sample of
// bulkStatisticsTarget's size.
func (s *Store) EndBulk(ctx context.Context) error {
	if err := ensureIndexes(ctx, s.pool); err != nil {
		return fmt.Errorf("catalog store (postgres): end bulk: %w", err)
	}
	s.bulk.Store(false)
	s.replay.Store(false)
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
	// The search rows a replay set aside go in place before search's key is
	// built over them.
	if err := mergeSetAside(ctx, pool); err != nil {
		return fmt.Errorf("search rows set aside by a replay: %w", err)
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
	// CREATE INDEX of one table share its lock. Then, on the same
	// connections, the ANALYZE of each table, for the plans of the queries
	// that follow (the tables grew while unindexed and without statistics):
	// one that comes while the other builder still builds an index of its
	// table waits for that build's lock.
	type job struct {
		name string
		run  func() error
	}
	var jobs []job
	for _, ix := range todo {
		jobs = append(jobs, job{"create index " + ix.name, func() error { return buildIndex(ctx, pool, ix) }})
	}
	for _, t := range analyzeOrder {
		jobs = append(jobs, job{"analyze " + t, func() error { return analyzeSample(ctx, pool, t, bulkStatisticsTarget) }})
	}
	work := make(chan job)
	errs := make([]error, bulkBuilders)
	var wg sync.WaitGroup
	for w := range bulkBuilders {
		wg.Go(func() {
			for j := range work {
				if errs[w] == nil {
					if err := j.run(); err != nil {
						errs[w] = fmt.Errorf("%s: %w", j.name, err)
					}
				}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// entities_key is built: the hash index that stood in for it goes.
	if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS `+entitiesKeyReplay); err != nil {
		return fmt.Errorf("drop %s: %w", entitiesKeyReplay, err)
	}
	// Autovacuum as usual.
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
	// No parallel workers: bulkBuilders builds already share the cores, and
	// a worker would want 32 MB of sort memory of its own.
	mem := bulkMaintenanceMem
	if ix.mem != "" {
		mem = ix.mem
	}
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '`+mem+`'; SET LOCAL max_parallel_maintenance_workers = 0`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ix.create); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
