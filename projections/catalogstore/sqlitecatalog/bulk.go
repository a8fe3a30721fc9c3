package sqlitecatalog

import (
	"context"
	"fmt"
	"strconv"
)

type index struct{ name, create string }

// bulkIndexes are the indexes that take random inserts on every entity; they are
// dropped during a bulk load and rebuilt at its end by one sort each. Readers can
// do without them, only slower: they serve filters, facets and orders by name.
//
// entities_kind_name and entities_name_key are keyed by the entity's name,
// random in the order entities are created: each batch of 500 entities
// rewrote about 400 leaf pages of each (1,000 and 1,900 pages at 100,000
// entities). The reads of a live load keep their paths: lists in creation
// order (entities_kind_eid), lookups by key (entities_key), the ingester's
// files of a location (entities_location); a list sorted by name sorts its
// matches instead until EndBulk.
var bulkIndexes = []index{
	{"search_key_value", `CREATE INDEX IF NOT EXISTS search_key_value ON search(kid, value, eid)`},
	{"relations_type_target", `CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target)`},
	{"entities_kind_name", `CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name)`},
	{"entities_name_key", `CREATE INDEX IF NOT EXISTS entities_name_key ON entities(name, key)`},
}

// replayIndexes are dropped as well during a replay into a fresh store, which
// no one reads until it is done.
var replayIndexes = []index{
	{"relations_target", relationsTarget.create},
	{"entities_kind_eid", `CREATE INDEX IF NOT EXISTS entities_kind_eid ON entities(kind, eid)`},
	{"entities_location", `CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id, managed_by)`},
}

// relationsTarget is the index of the relations toward an entity (its key
// as target), and of filters on a reverse type. Every entity a reader is
// given (a page of one entity, as a poll's) reads the relations toward it
// through it. Its keys are the targets, random in the order entities are
// created: each batch of 500 entities rewrote about 1,100 of its leaf pages,
// the most of any index. A live bulk load drops it too, and keeps
// relationsTargetBulk instead.
var relationsTarget = index{"relations_target", `CREATE INDEX IF NOT EXISTS relations_target ON relations(target, lreverse)`}

// targetBucketBits sets the buckets of relationsTargetBulk: the relations
// declared by the entities created within 2^targetBucketBits log positions
// of each other (origin >> targetBucketBits) share one. With 12, a bucket
// holds about 8 batches of dev's 500 entities, whose targets fill about
// 200 leaf pages, and 100,000 entities make about 25 buckets.
const targetBucketBits = 12

// relationsTargetBulk is relations_target by bucket of origins: the index a
// live bulk load keeps of the relations toward an entity. A batch's
// relations go to the bucket of the newest origins, small, so each commit
// rewrites the leaf pages of that bucket alone instead of pages all over
// relations_target; a read of the relations toward a key searches each
// bucket for it (byTarget). EndBulk builds relations_target in one sort
// and drops this index.
var relationsTargetBulk = index{"relations_target_bulk", `CREATE INDEX IF NOT EXISTS relations_target_bulk ON relations(origin >> ` +
	strconv.Itoa(targetBucketBits) + `, target, lreverse)`}

// Bulk modes of a SQLite store.
const (
	bulkOff = iota
	bulkLive
	bulkReplay
)

// BeginBulk drops the bulk indexes and the names index's triggers: until
// EndBulk, Apply writes each entity's names document itself.
func (s *Store) BeginBulk(ctx context.Context) error {
	return s.beginBulk(ctx, bulkLive, append(append([]index{}, bulkIndexes...), relationsTarget))
}

// BeginReplay drops every index a fresh store being replayed into can do
// without, and the triggers that keep the names index; EndBulk builds them
// all again, the names index in one pass.
func (s *Store) BeginReplay(ctx context.Context) error {
	return s.beginBulk(ctx, bulkReplay, append(append([]index{}, bulkIndexes...), replayIndexes...))
}

func (s *Store) beginBulk(ctx context.Context, mode int, drop []index) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ix := range drop {
		if _, err := s.write.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return fmt.Errorf("catalog store: begin bulk: %w", err)
		}
	}
	// The names index's triggers rewrite an entity's document once per name
	// row inserted, reading its rows back: half of a live bulk load's cost.
	// A replay rebuilds the index at its end; a live bulk load, which
	// readers read, writes each entity's document itself (writeNames).
	if err := dropNameTriggers(ctx, s); err != nil {
		return err
	}
	if mode == bulkLive {
		// Readers find the relations toward an entity in the buckets of
		// relations_target_bulk once it is built (byTarget).
		if _, err := s.write.ExecContext(ctx, relationsTargetBulk.create); err != nil {
			return fmt.Errorf("catalog store: begin bulk: %w", err)
		}
		s.targetBuckets.Store(true)
	}
	s.bulkMode = mode
	return nil
}

// EndBulk rebuilds the bulk indexes and resets the write-ahead log the load
// filled (sqlitewal).
func (s *Store) EndBulk(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// After a live bulk load the names index is current: its triggers are
	// created again without a rebuild.
	keep := ensureNameTriggers
	if s.bulkMode == bulkLive {
		keep = createNameTriggers
	}
	if err := keep(ctx, s); err != nil {
		return err
	}
	if err := ensureIndexes(ctx, s); err != nil {
		return err
	}
	s.bulkMode = bulkOff
	// The load's frames and the indexes just built fill the write-ahead
	// log: start it over, or every later commit checkpoints (sqlitewal).
	s.wal.AfterLargeWrite(ctx)
	return nil
}

// indexSortKiB is the sorter's memory of an index build (the writer's
// cache_size while it runs). The sorter holds its records in one buffer that
// doubles from a page up to this size, and modernc.org/libc's allocator keeps
// the newest freed region of each size class resident for reuse: at 8 MiB,
// the 1, 2, 4 and 8 MiB buffers of a rebuild stayed resident for the life of
// backlot dev, 15 MB of its peak. At 2 MiB they are about 4 MB, and the build
// is no slower: CREATE INDEX over 1,000,000 short keys took 1.18-1.22 s of
// CPU with 8 MiB and 1.01-1.03 s with 2 MiB (smaller runs sort within the
// CPU's caches; the runs spill to temporary files).
const indexSortKiB = 2048

// ensureIndexes creates the bulk indexes when missing, as after a crash during
// a bulk load.
func ensureIndexes(ctx context.Context, s *Store) error {
	// The sorter of CREATE INDEX keeps up to cache_size of memory before it spills
	// to disk; a small cache keeps a rebuild over millions of rows out of RAM.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, indexSortKiB)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, s.cacheKiB))
	for _, ix := range append(append([]index{}, bulkIndexes...), replayIndexes...) {
		if _, err := conn.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("catalog store: create index %s: %w", ix.name, err)
		}
	}
	// relations_target is built: readers search it again, and the index of
	// a live bulk load (or of one a crash interrupted) goes. (Building it
	// first instead shortened the reads of relations_target_bulk at the end
	// of dev's load, but left the first sorted list and the counts of that
	// moment without entities_kind_name and search_key_value for longer:
	// bench catalog's first byQueryPage took 1.7-2.8 s instead of 0.1-0.5 s.)
	s.targetBuckets.Store(false)
	if _, err := conn.ExecContext(ctx, `DROP INDEX IF EXISTS `+relationsTargetBulk.name); err != nil {
		return fmt.Errorf("catalog store: drop index %s: %w", relationsTargetBulk.name, err)
	}
	s.cache.invalidate()
	return nil
}

// byTarget renders a read of the relations r toward some keys, whose
// condition on r.target is cond: with relations_target, cond alone; during
// a live bulk load, which keeps relations_target_bulk instead, cond in each
// bucket of origins from the smallest stored to the largest, which the
// statement's WITH clause lists (so the read answers from its own snapshot).
// The rows of one target and lreverse come in the order of their origins
// either way.
func (s *Store) byTarget(cond string) (with, where string) {
	if !s.targetBuckets.Load() {
		return "", cond
	}
	return targetBucketsWith, `(r.origin >> ` + strconv.Itoa(targetBucketBits) + `) IN (SELECT b FROM target_buckets) AND ` + cond
}

// targetBucketsWith is the WITH clause that lists the buckets of
// relations_target_bulk (target_buckets(b)), from the smallest origin stored
// to the largest.
var targetBucketsWith = `WITH RECURSIVE target_buckets(b) AS (SELECT (SELECT min(origin) FROM relations) >> ` + strconv.Itoa(targetBucketBits) + `
			UNION ALL SELECT b + 1 FROM target_buckets WHERE b < (SELECT max(origin) FROM relations) >> ` + strconv.Itoa(targetBucketBits) + `) `
