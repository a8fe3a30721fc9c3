package pgcatalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

// The PostgreSQL adapter of the catalog fold: it loads the rows a batch
// touches, folds, and writes the fold's changes with COPY, in one transaction.

// positionLockClass is the first key of the per-partition advisory locks
// (pg_advisory_xact_lock(positionLockClass, partition)) that make concurrent
// Applies of one partition take turns.
const positionLockClass int32 = 0x426c7431 // "Blt1"

// eidOf is the eid of an entity created by the event at pos in part.
func eidOf(pos int64, part int32) int64 { return pos*MaxPartitions + int64(part) }

// Apply folds the events into the read model in one transaction, together with
// the position of the last applied event of each partition. Events at or below
// their partition's recorded position are skipped, so applying a batch twice
// changes nothing. A transaction that fails on a serialization failure, a
// deadlock or a unique key a concurrent transaction took is run again, up to
// Options.ApplyAttempts times; other failures, a server that is down among
// them, are returned and nothing is written.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if p := events[i].Partition; p < 0 || p >= MaxPartitions {
			return fmt.Errorf("catalog store (postgres): event %s is from partition %d; the read model folds partitions 0 to %d", events[i].ID, p, MaxPartitions-1)
		}
	}
	if s.bulk.Load() {
		select {
		case s.bulkSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.bulkSlots }()
	}
	err := pgkit.RetryTx(ctx, s.pool, s.opts.ApplyAttempts, "catalog store (postgres)", func(tx pgx.Tx) error {
		return s.applyTx(ctx, tx, events)
	})
	if err == nil {
		s.wrote(len(events))
	}
	return err
}

// bulkFolds is how many transactions of a bulk fold (BeginBulk,
// BeginReplay) a store runs at once; Apply waits for one to end before it
// begins another. The projector folds the partitions of a log side by side,
// as many at once as the pool has connections (8), and on a machine of few
// cores the transactions that take turns on them cost PostgreSQL more CPU
// for the same rows: replaying bench replay's 100,000 components, 12
// partitions folded side by side cost 31.9-33.2 µs of PostgreSQL CPU an event
// where the same batches one after the other cost 18-22 µs, and took as
// long. Two keep one transaction's rows in PostgreSQL while the other's
// batch is decoded and folded in Go.
var bulkFolds = 2

// applyTx folds the events in tx.
func (s *Store) applyTx(ctx context.Context, tx pgx.Tx, events []event.Envelope) error {
	applied, err := pgkit.LockPositions(ctx, tx, positionLockClass, "positions", catalogstore.ProjectionName, events)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	batch, err := catalogstore.DecodeBatch(events, applied)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	if batch.Len() == 0 {
		return nil
	}
	bulk := s.bulk.Load()
	if bulk {
		if err := bulkSettings(ctx, tx); err != nil {
			return fmt.Errorf("catalog store (postgres): %w", err)
		}
	}
	st, err := load(ctx, tx, batch)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): read current rows: %w", err)
	}
	ch, err := batch.Fold(st, eidOf)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	// Without the bulk indexes rows go in unsorted.
	ch.SortRows(!bulk, !bulk)
	ids, err := s.keyIDs(ctx, ch.Search)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): search keys: %w", err)
	}
	if err := write(ctx, tx, ch, ids, s.replay.Load()); err != nil {
		return fmt.Errorf("catalog store (postgres): write: %w", err)
	}
	if err := pgkit.WritePositions(ctx, tx, "positions", catalogstore.ProjectionName, batch.Last); err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	return nil
}

// bulkSettings sets the transaction of a batch folded in bulk apart:
//   - A commit need not wait for the WAL's flush. A server crash may lose the
//     last commits, rows and positions together, and the projector folds them
//     again.
//   - No sequential scans. A bulk load leaves the tables without statistics
//     until its end (autovacuum is paused and EndBulk analyzes), and without
//     them the planner takes a batch's 2,000 keys for most of the table: until
//     it held 50,000 to 100,000 entities, each batch's look-up of its
//     entities by key read every entity, bodies and all, instead of probing
//     entities_key (18% of PostgreSQL's CPU half-way through a replay of
//     100,000 components). Every statement of a fold finds its rows through
//     an index (keys, eids, origins, ids).
func bulkSettings(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true), set_config('enable_seqscan', 'off', true)`)
	return err
}

// loadEntitiesSQL reads the stored state of the entities of the keys $1.
const loadEntitiesSQL = `SELECT key, eid, hash, uid FROM entities WHERE key = ANY($1)`

// load reads the current rows of the locations and entities the batch touches.
func load(ctx context.Context, tx pgx.Tx, batch *catalogstore.Batch) (catalogstore.State, error) {
	st := catalogstore.State{Locations: map[string]catalogstore.StoredLocation{}, Entities: map[string]catalogstore.StoredEntity{}}
	if ids := batch.LocationIDs(); len(ids) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, type, target, entity_key, created FROM locations WHERE id = ANY($1)`, ids)
		if err != nil {
			return st, err
		}
		for rows.Next() {
			var id string
			var l catalogstore.StoredLocation
			if err := rows.Scan(&id, &l.Type, &l.Target, &l.EntityKey, &l.Created); err != nil {
				rows.Close()
				return st, err
			}
			st.Locations[id] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return st, err
		}
	}
	rows, err := tx.Query(ctx, loadEntitiesSQL, batch.EntityKeys(st.Locations))
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var e catalogstore.StoredEntity
		if err := rows.Scan(&key, &e.EID, &e.Hash, &e.UID); err != nil {
			return st, err
		}
		st.Entities[key] = e
	}
	return st, rows.Err()
}

// keyIDs returns the id of every key of rows: from the store's cache, or, for
// keys it lacks, from search_keys, which gives new keys their ids. New keys
// are added in a short transaction of their own on the key pool, committed
// before the fold's (in key order, so concurrent ones wait for one another
// instead of deadlocking): a fold that shares a new key with a concurrent one
// (a dependsOn target both name) then waits for that insert only, not for the
// other fold's whole transaction. A key whose fold then fails stays, unused
// by any row, which no query sees.
func (s *Store) keyIDs(ctx context.Context, rows []catalogstore.SearchRecord) (map[string]int32, error) {
	ids := map[string]int32{}
	var missing []string
	for _, r := range rows {
		if _, ok := ids[r.Key]; ok {
			continue
		}
		if id, ok := s.keys.get(r.Key); ok {
			ids[r.Key] = id
			continue
		}
		ids[r.Key] = 0
		missing = append(missing, r.Key)
	}
	if len(missing) == 0 {
		return ids, nil
	}
	slices.Sort(missing)
	// The batch is idempotent, so a failed one runs once more: the key pool
	// may hand out a connection the server closed while it sat idle (a
	// restart), which only a use finds out.
	got, err := s.addKeys(ctx, missing)
	if err != nil && ctx.Err() == nil {
		got, err = s.addKeys(ctx, missing)
	}
	if err != nil {
		return nil, err
	}
	if len(got) != len(missing) {
		return nil, fmt.Errorf("%d of %d new search keys have no id", len(missing)-len(got), len(missing))
	}
	// Committed: known to every transaction from now on.
	for k, id := range got {
		ids[k] = id
		s.keys.put(k, id)
	}
	return ids, nil
}

// addKeys gives the keys of missing that have none an id in search_keys, in
// one implicit transaction of the key pool, and returns the id of each.
func (s *Store) addKeys(ctx context.Context, missing []string) (map[string]int32, error) {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO search_keys(key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING`, missing)
	ids := make(map[string]int32, len(missing))
	// Read committed: the select sees the keys the insert added and those
	// concurrent inserts committed.
	b.Queue(`SELECT id, key FROM search_keys WHERE key = ANY($1)`, missing).Query(func(got pgx.Rows) error {
		for got.Next() {
			var id int32
			var k string
			if err := got.Scan(&id, &k); err != nil {
				return err
			}
			ids[k] = id
		}
		return got.Err()
	})
	// The batch runs as one implicit transaction, committed at its end.
	if err := s.keyPool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return ids, nil
}

// write deletes the rows the batch replaced or removed, then copies in the
// new ones, the search rows naming their keys by ids. In a replay (setAside),
// the search and relation rows of the entities the batch replaced or removed
// are not deleted but marked stale, and the new rows of those it replaced are
// set aside (replaysearch.go).
func write(ctx context.Context, tx pgx.Tx, ch *catalogstore.Changes, ids map[string]int32, setAside bool) error {
	nBody := 0
	for i := range ch.Entities {
		nBody += len(ch.Entities[i].Body)
	}
	entBuf := newCopyBuf(nBody + len(ch.Entities)*256)
	for i := range ch.Entities {
		e := &ch.Entities[i]
		entBuf.row(13)
		entBuf.int8(e.EID)
		entBuf.text(e.Key)
		entBuf.text(e.Ref)
		entBuf.text(e.UID)
		entBuf.text(e.Kind)
		entBuf.text(e.Namespace)
		entBuf.text(e.Name)
		entBuf.text(e.Hash)
		entBuf.text(e.LocationID)
		entBuf.text(e.ManagedBy)
		entBuf.bytea(e.Body)
		entBuf.int8(e.UpdatedPos)
		entBuf.int4(e.UpdatedPart)
	}
	locBuf := newCopyBuf(0)
	for _, l := range ch.Locations {
		locBuf.row(5)
		locBuf.text(l.ID)
		locBuf.text(l.Type)
		locBuf.text(l.Target)
		locBuf.text(l.EntityKey)
		locBuf.int8(l.Created)
	}
	errBuf := newCopyBuf(0)
	for _, le := range ch.LocationErrors {
		errBuf.row(4)
		errBuf.text(le.LocationID)
		errBuf.int4(int32(le.Seq))
		errBuf.bytea(le.Body)
		errBuf.text(le.EntityKey)
	}
	// rewritten holds the hash of the new version of each entity whose old
	// search and relation rows a replay keeps until its end.
	var rewritten map[int64]string
	if setAside && len(ch.DeleteEIDs) > 0 {
		rewritten = make(map[int64]string, len(ch.DeleteEIDs))
		for _, eid := range ch.DeleteEIDs {
			rewritten[eid] = ""
		}
		for i := range ch.Entities {
			if _, ok := rewritten[ch.Entities[i].EID]; ok {
				rewritten[ch.Entities[i].EID] = ch.Entities[i].Hash
			}
		}
	}
	searchBuf := newCopyBuf(len(ch.Search) * 64)
	asideBuf := newCopyBuf(0)
	// A row of an entity this batch rewrites during a replay goes to the
	// side table with the version's hash as one more column (replaysearch.go).
	for _, r := range ch.Search {
		buf, cols := searchBuf, 5
		hash, aside := rewritten[r.EID]
		if aside {
			buf, cols = asideBuf, 6
		}
		buf.row(cols)
		buf.int8(r.EID)
		buf.int4(ids[r.Key])
		buf.text(r.Value)
		buf.textOrNull(r.Original)
		buf.bool(r.Item)
		if aside {
			buf.text(hash)
		}
	}
	relBuf := newCopyBuf(len(ch.Relations) * 128)
	relAsideBuf := newCopyBuf(0)
	for _, r := range ch.Relations {
		buf, cols := relBuf, 7
		hash, aside := rewritten[r.Origin]
		if aside {
			buf, cols = relAsideBuf, 8
		}
		buf.row(cols)
		buf.int8(r.Origin)
		buf.text(r.Type)
		buf.text(r.LType)
		buf.text(r.Target)
		buf.text(r.TargetRef)
		buf.text(r.Reverse)
		buf.text(r.LReverse)
		if aside {
			buf.text(hash)
		}
	}

	b := &pgx.Batch{}
	if len(ch.DeleteEIDs) > 0 {
		if setAside {
			b.Queue(`INSERT INTO replay_stale(eid) SELECT unnest($1::bigint[])`, ch.DeleteEIDs)
		} else {
			b.Queue(`DELETE FROM relations WHERE origin = ANY($1)`, ch.DeleteEIDs)
			b.Queue(`DELETE FROM search WHERE eid = ANY($1)`, ch.DeleteEIDs)
		}
		b.Queue(`DELETE FROM entities WHERE eid = ANY($1)`, ch.DeleteEIDs)
	}
	if len(ch.DeleteLocations) > 0 {
		b.Queue(`DELETE FROM locations WHERE id = ANY($1)`, ch.DeleteLocations)
	}
	if len(ch.ErrorLocations) > 0 {
		b.Queue(`DELETE FROM location_errors WHERE location_id = ANY($1)`, ch.ErrorLocations)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("delete replaced rows: %w", err)
		}
	}
	copies := []struct {
		table, cols string
		buf         *copyBuf
	}{
		{"locations", "id, type, target, entity_key, created", locBuf},
		{"location_errors", "location_id, seq, body, entity_key", errBuf},
		{"entities", "eid, key, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos, updated_partition", entBuf},
		{"search", "eid, kid, value, original, item", searchBuf},
		{"search_pending", "eid, kid, value, original, item, hash", asideBuf},
		{"relations", "origin, type, ltype, target, target_ref, reverse, lreverse", relBuf},
		{"relations_pending", "origin, type, ltype, target, target_ref, reverse, lreverse, hash", relAsideBuf},
	}
	for _, c := range copies {
		if err := copyInto(ctx, tx, c.table, c.cols, c.buf); err != nil {
			return err
		}
	}
	return nil
}
