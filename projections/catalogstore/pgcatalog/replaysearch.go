package pgcatalog

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// During a replay into a fresh read model (BeginReplay) the search and
// relations tables have no index, so a batch cannot find the old rows of an
// entity it rewrites or removes. It leaves them, and writes instead:
//   - the entity's old eid into replay_stale;
//   - the new version's search and relation rows, when the entity still
//     exists, into search_pending and relations_pending, with the hash of
//     the version they were built from.
//
// A rewritten entity keeps its eid, so its old and new rows share it, and
// several batches may rewrite it before the replay ends. The entities table
// is kept exact all along, though: at the end (mergeSetAside), the rows of
// every stale eid leave search and relations, and the pending rows whose eid
// and hash are those of an entities row go in, once each. An entity's search
// and relation rows are a function of its body, which its hash names, so the
// pending rows of the version the entities table holds are the rows a fold in
// place would have left; those of an earlier version with the same hash are
// the same rows. A removed entity has no entities row, and so no rows back.
// Most events of a replay create their entity: their rows go straight into
// search and relations.

// createSetAsideTables creates the tables of the rows a replay sets aside.
const createSetAsideTables = `CREATE TABLE IF NOT EXISTS replay_stale (eid bigint NOT NULL);
		CREATE TABLE IF NOT EXISTS search_pending (
			eid      bigint NOT NULL,
			kid      integer NOT NULL,
			value    text COLLATE "C" NOT NULL,
			original text COLLATE "C",
			item     boolean NOT NULL,
			hash     text COLLATE "C" NOT NULL
		);
		CREATE TABLE IF NOT EXISTS relations_pending (
			origin     bigint NOT NULL,
			type       text COLLATE "C" NOT NULL,
			ltype      text COLLATE "C" NOT NULL,
			target     text COLLATE "C" NOT NULL,
			target_ref text COLLATE "C" NOT NULL,
			reverse    text COLLATE "C" NOT NULL,
			lreverse   text COLLATE "C" NOT NULL,
			hash       text COLLATE "C" NOT NULL
		)`

// mergeSetAsideSQL puts the rows a replay set aside in place, then drops
// their tables. The side tables are analyzed first: a replay leaves them
// without statistics (it ends before autovacuum looks at them), and without
// them the planner joined each to entities by hashing every entity, reading
// all of entities, bodies and all, once per insert; with them it probes
// entities_pkey once per set-aside eid. At 100,000 entities of
// storetest.History (2,000 rewritten: 36,042 search and 9,842 relation rows
// set aside), the selects of the two inserts cost PostgreSQL 320 and 150 ms
// of CPU with the hash joins, 70 and 20 ms probing.
const mergeSetAsideSQL = mergeAnalyzeSQL + `;
	DELETE FROM search WHERE eid IN (SELECT eid FROM replay_stale);
	INSERT INTO search(eid, kid, value, original, item)
		` + mergeSearchSQL + `;
	DELETE FROM relations WHERE origin IN (SELECT eid FROM replay_stale);
	INSERT INTO relations(origin, type, ltype, target, target_ref, reverse, lreverse)
		SELECT DISTINCT p.origin, p.type, p.ltype, p.target, p.target_ref, p.reverse, p.lreverse
		FROM relations_pending p JOIN entities e ON e.eid = p.origin AND e.hash = p.hash;
	DROP TABLE replay_stale, search_pending, relations_pending`

// mergeAnalyzeSQL gathers the statistics of the side tables.
const mergeAnalyzeSQL = `ANALYZE replay_stale, search_pending, relations_pending`

// mergeSearchSQL selects the set-aside search rows of the versions the
// entities table holds, once each.
const mergeSearchSQL = `SELECT DISTINCT ON (p.eid, p.kid, p.value) p.eid, p.kid, p.value, p.original, p.item
		FROM search_pending p JOIN entities e ON e.eid = p.eid AND e.hash = p.hash
		ORDER BY p.eid, p.kid, p.value`

// mergeLockClass is the first key of the advisory lock that makes stores
// opened at once merge the set-aside rows one after the other.
const mergeLockClass int32 = 0x426c7432 // "Blt2"

// mergeSetAside puts the search rows a replay set aside in place, in one
// transaction; it does nothing when no replay left any.
func mergeSetAside(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, mergeLockClass); err != nil {
		return err
	}
	var pending bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('replay_stale') IS NOT NULL AND to_regclass('search_pending') IS NOT NULL
		AND to_regclass('relations_pending') IS NOT NULL`).Scan(&pending); err != nil {
		return err
	}
	if !pending {
		return nil
	}
	if _, err := tx.Exec(ctx, mergeSetAsideSQL); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
