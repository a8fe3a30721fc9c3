package sqlitecatalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// The SQLite adapter of the fold (fold.go): it loads the rows a batch touches,
// folds, and writes the fold's changes, all in one transaction.

// Columns per row of the multi-row INSERTs, and rows per statement.
const (
	searchCols   = 5
	relationCols = 7
	entityCols   = 12
	// entityTable names the entity columns in the order the writer gives them.
	entityTable = "entities(key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos)"
	bulkRows    = 400
	// loadChunk is how many keys one lookup names.
	loadChunk = 500
)

// sqliteEID is the eid of an entity created at pos: the position itself, as
// the embedded log has one partition.
func sqliteEID(pos int64, _ int32) int64 { return pos }

// Apply folds events into the read model in one transaction with the position of
// the last event. Events at or below the stored position are skipped.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if ev := &events[i]; ev.Partition != 0 {
			return fmt.Errorf("catalog store: event %s is from partition %d: the SQLite read model folds a single-partition log", ev.ID, ev.Partition)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.apply(ctx, events, false)
	if errors.Is(err, errEntityInsert) {
		// The failed insert rolled the transaction back: fold the batch
		// again, on the same rows, with inserts that name the entity.
		err = s.apply(ctx, events, true)
	}
	return err
}

// errEntityInsert is the failure of a multi-row insert of entity rows, which
// rolls back the whole transaction (OR ROLLBACK).
var errEntityInsert = errors.New("entity rows not inserted")

// apply is Apply under s.mu. With diagnose, entity rows go in with
// statements that fail alone (INSERT's ABORT), and those of one that fails
// row by row, to name the entity whose row failed.
func (s *Store) apply(ctx context.Context, events []event.Envelope, diagnose bool) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog store: begin: %w", err)
	}
	defer tx.Rollback()
	var applied int64
	if err := tx.QueryRowContext(ctx, `SELECT position FROM positions WHERE name = ?`, catalogstore.ProjectionName).Scan(&applied); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("catalog store: read position: %w", err)
	}
	var batch *catalogstore.Batch
	if d := s.takeDecoded(events); d != nil {
		batch, err = d.Batch(event.Positions{0: applied})
	} else {
		batch, err = catalogstore.DecodeBatch(events, event.Positions{0: applied})
	}
	if err != nil {
		return fmt.Errorf("catalog store: %w", err)
	}
	if batch.Len() == 0 {
		return nil
	}
	w := &sqliteWriter{tx: tx, prepared: s.prepared, names: s.bulkMode == bulkLive, diagnose: diagnose}
	defer w.close()
	var st catalogstore.State
	if st.Locations, err = w.loadLocations(ctx, batch.LocationIDs()); err != nil {
		return fmt.Errorf("catalog store: read current rows: %w", err)
	}
	if st.Entities, err = w.loadEntities(ctx, batch.EntityKeys(st.Locations)); err != nil {
		return fmt.Errorf("catalog store: read current rows: %w", err)
	}
	ch, err := batch.Fold(st, sqliteEID)
	if err != nil {
		return fmt.Errorf("catalog store: %w", err)
	}
	// Sorted rows visit each index page once; without the index a sort serves,
	// rows go in as they come: in eid order, the order of the tables' primary keys.
	ch.SortRows(s.bulkMode == bulkOff, s.bulkMode != bulkReplay)
	if s.keys == nil {
		if s.keys, s.lastKey, err = loadKeys(ctx, tx, s.hash); err != nil {
			return fmt.Errorf("catalog store: read search keys: %w", err)
		}
	}
	w.hash = s.hash
	newKeys, last, err := w.keyIDs(ctx, s.keys, s.lastKey, ch.Search)
	if err != nil {
		return fmt.Errorf("catalog store: write search keys: %w", err)
	}
	w.keys = s.keys
	if err := w.write(ctx, ch); err != nil {
		return fmt.Errorf("catalog store: write: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO positions(name, position) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, catalogstore.ProjectionName, batch.Last[0]); err != nil {
		return fmt.Errorf("catalog store: write position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("catalog store: commit: %w", err)
	}
	for k, id := range newKeys {
		s.keys[k] = id
	}
	s.lastKey = last
	s.cache.invalidate()
	s.wal.AfterCommit(ctx)
	return nil
}

// Prepare decodes events ahead of their Apply (projector.Preparer), on the
// goroutine of a projector's read ahead, while the writer writes the batch
// before: Apply then folds them without decoding them again. The store keeps
// the last aheadBatches batches prepared.
func (s *Store) Prepare(events []event.Envelope) {
	d := catalogstore.DecodeAhead(events)
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	if len(s.ahead) == aheadBatches {
		s.ahead = slices.Delete(s.ahead, 0, 1)
	}
	s.ahead = append(s.ahead, d)
}

// aheadBatches is how many prepared batches the store keeps: the one the
// writer is about to apply, and the next, which a read ahead may finish
// preparing before that Apply starts.
const aheadBatches = 2

// takeDecoded returns the decoding Prepare made of events, and forgets it,
// or nil.
func (s *Store) takeDecoded(events []event.Envelope) *catalogstore.Decoded {
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	for i, d := range s.ahead {
		if d.Of(events) {
			s.ahead = slices.Delete(s.ahead, i, i+1)
			s.aheadUsed++
			return d
		}
	}
	return nil
}

// sqliteWriter loads and writes the rows of one Apply transaction.
type sqliteWriter struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// names says the writer keeps the names index itself, without its
	// triggers (a live bulk load): each entity it deletes or writes gets its
	// document deleted or written.
	names bool
	// diagnose inserts entity rows with statements that fail alone, and
	// names the entity of one that fails (Store.apply).
	diagnose bool
	// prepared are the statements of full multi-row inserts, prepared once
	// on the writer connection (Store.prepared); stmts holds their
	// transaction's handles too.
	prepared map[string]*sql.Stmt
	// keys and fresh map search keys, by their hashes, to their ids: those
	// committed before and those this transaction adds.
	keys, fresh map[keyHash]int64
	hash        keyHasher
}

// itemOf is the item column's value of a search row: 1 for a row marked
// Item, else 0 (each stored in the row's header alone).
func itemOf(item bool) int64 {
	if item {
		return 1
	}
	return 0
}

// loadKeys reads the search keys' ids, by the keys' hashes under h, and the
// largest id.
func loadKeys(ctx context.Context, tx *sql.Tx, h keyHasher) (map[keyHash]int64, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, key FROM search_keys`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	keys := map[keyHash]int64{}
	var last int64
	for rows.Next() {
		var id int64
		var k sql.RawBytes
		if err := rows.Scan(&id, &k); err != nil {
			return nil, 0, err
		}
		keys[h.of(string(k))], last = id, max(last, id)
	}
	return keys, last, rows.Err()
}

// keyIDs gives the keys of rows that known lacks the ids after last, writes
// them to search_keys and returns them with the new largest id; known is left
// as it is, for the caller to extend once the transaction commits.
func (w *sqliteWriter) keyIDs(ctx context.Context, known map[keyHash]int64, last int64, rows []catalogstore.SearchRecord) (map[keyHash]int64, int64, error) {
	next := last
	w.fresh = map[keyHash]int64{}
	var vals []any
	for _, r := range rows {
		h := w.hash.of(r.Key)
		if _, ok := known[h]; ok {
			continue
		}
		if _, ok := w.fresh[h]; ok {
			continue
		}
		next++
		w.fresh[h] = next
		vals = append(vals, next, r.Key)
	}
	if err := w.insertRows(ctx, "search_keys(id, key)", 2, vals); err != nil {
		return nil, 0, err
	}
	return w.fresh, next, nil
}

// keyID returns the id of search key k.
func (w *sqliteWriter) keyID(k string) int64 {
	h := w.hash.of(k)
	if id, ok := w.keys[h]; ok {
		return id
	}
	return w.fresh[h]
}

// stmt prepares q once per transaction, or takes the statement prepared for
// the store when it is one of Store.prepared.
func (w *sqliteWriter) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	var st *sql.Stmt
	var err error
	if shared, ok := w.prepared[q]; ok {
		st = w.tx.StmtContext(ctx, shared)
	} else {
		st, err = w.tx.PrepareContext(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[q] = st
	return st, nil
}

func (w *sqliteWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// exec runs the prepared statement q with args.
func (w *sqliteWriter) exec(ctx context.Context, q string, args ...any) error {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// chunks calls fn with the distinct values of vals, loadChunk at a time.
func chunks(vals []string, fn func(part []any) error) error {
	vals = slices.Clone(vals)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	for len(vals) > 0 {
		n := min(len(vals), loadChunk)
		part := make([]any, n)
		for i, v := range vals[:n] {
			part[i] = v
		}
		if err := fn(part); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

func (w *sqliteWriter) loadLocations(ctx context.Context, ids []string) (map[string]catalogstore.StoredLocation, error) {
	out := map[string]catalogstore.StoredLocation{}
	err := chunks(ids, func(part []any) error {
		rows, err := w.tx.QueryContext(ctx, `SELECT id, type, target, entity_key, created_pos FROM locations WHERE id IN (`+placeholders(len(part))+`)`, part...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var l catalogstore.StoredLocation
			if err := rows.Scan(&id, &l.Type, &l.Target, &l.EntityKey, &l.Created); err != nil {
				return err
			}
			out[id] = l
		}
		return rows.Err()
	})
	return out, err
}

func (w *sqliteWriter) loadEntities(ctx context.Context, keys []string) (map[string]catalogstore.StoredEntity, error) {
	out := make(map[string]catalogstore.StoredEntity, len(keys))
	err := chunks(keys, func(part []any) error {
		st, err := w.stmt(ctx, `SELECT key, eid, hash, uid FROM entities WHERE key IN (`+placeholders(len(part))+`)`)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, part...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var e catalogstore.StoredEntity
			if err := rows.Scan(&key, &e.EID, &e.Hash, &e.UID); err != nil {
				return err
			}
			out[key] = e
		}
		return rows.Err()
	})
	return out, err
}

// write deletes the rows the batch replaced or removed, then inserts the new ones.
func (w *sqliteWriter) write(ctx context.Context, ch *catalogstore.Changes) error {
	for _, eid := range ch.DeleteEIDs {
		for _, q := range []string{`DELETE FROM relations WHERE origin = ?`, `DELETE FROM search WHERE eid = ?`, `DELETE FROM entities WHERE eid = ?`} {
			if err := w.exec(ctx, q, eid); err != nil {
				return err
			}
		}
	}
	for _, id := range ch.DeleteLocations {
		if err := w.exec(ctx, `DELETE FROM locations WHERE id = ?`, id); err != nil {
			return err
		}
	}
	for _, id := range ch.ErrorLocations {
		if err := w.exec(ctx, `DELETE FROM location_errors WHERE location_id = ?`, id); err != nil {
			return err
		}
	}
	for _, l := range ch.Locations {
		if err := w.exec(ctx, `INSERT INTO locations(id, type, target, entity_key, created_pos) VALUES (?,?,?,?,?)`,
			l.ID, l.Type, l.Target, l.EntityKey, l.Created); err != nil {
			return err
		}
	}
	for _, le := range ch.LocationErrors {
		if err := w.exec(ctx, `INSERT INTO location_errors(location_id, seq, body, entity_key) VALUES (?,?,?,?)`,
			le.LocationID, le.Seq, le.Body, le.EntityKey); err != nil {
			return err
		}
	}
	for part := range slices.Chunk(ch.Entities, bulkRows) {
		vals := make([]any, 0, len(part)*entityCols)
		for _, e := range part {
			vals = append(vals, e.Key, e.EID, e.Ref, e.UID, e.Kind, e.Namespace, e.Name, e.Hash, e.LocationID, e.ManagedBy, e.Body, e.UpdatedPos)
		}
		if !w.diagnose {
			if err := w.insert(ctx, entityInsert, entityTable, entityCols, vals); err != nil {
				return fmt.Errorf("%w: %w", errEntityInsert, err)
			}
			continue
		}
		if err := w.insert(ctx, "INSERT", entityTable, entityCols, vals); err != nil {
			// The failed statement changed nothing: name its entity row by row.
			for i, e := range part {
				if err := w.exec(ctx, `INSERT INTO `+entityTable+` VALUES (`+placeholders(entityCols)+`)`, vals[i*entityCols:(i+1)*entityCols]...); err != nil {
					return fmt.Errorf("entity %s: %w", e.Key, err)
				}
			}
			return err
		}
	}
	// An entity's rows share its eid: boxed once, not once per row.
	var eid boxedInt
	search := make([]any, 0, len(ch.Search)*searchCols)
	for _, r := range ch.Search {
		var original any
		if r.Original != nil {
			original = *r.Original // stored only when it differs from the lower-case value
		}
		search = append(search, eid.of(r.EID), w.keyID(r.Key), r.Value, original, itemOf(r.Item))
	}
	if err := w.insertRows(ctx, "search(eid, kid, value, original, item)", searchCols, search); err != nil {
		return err
	}
	if w.names {
		for _, eid := range ch.DeleteEIDs {
			if err := w.exec(ctx, `DELETE FROM names WHERE rowid = ?`, eid); err != nil {
				return err
			}
		}
		if err := w.insert(ctx, "INSERT", "names(rowid, text)", 2, nameDocs(ch.Entities, ch.Search)); err != nil {
			return err
		}
	}
	rels := make([]any, 0, len(ch.Relations)*relationCols)
	for _, r := range ch.Relations {
		rels = append(rels, eid.of(r.Origin), r.Type, r.LType, r.Target, r.TargetRef, r.Reverse, r.LReverse)
	}
	return w.insertRows(ctx, "relations(origin, type, ltype, target, target_ref, reverse, lreverse)", relationCols, rels)
}

// entityInsert is the verb of the entity rows' multi-row inserts. A
// statement of several rows that can fail alone (INSERT's ABORT) keeps a
// statement journal for its undo: a copy of each page it changes that the
// transaction had before, which for the entity rows is a leaf page of
// entities_key and of entities_uid per row, both keyed at random. A failed
// insert of entity rows fails the Apply anyway: OR ROLLBACK ends the whole
// transaction, so SQLite keeps no journal of the statement, and Apply folds
// the batch again to name the entity (Store.apply).
const entityInsert = "INSERT OR ROLLBACK"

// boxedInt boxes an int64 as an interface value, reusing the last box while
// the value repeats.
type boxedInt struct {
	v   int64
	box any
}

func (b *boxedInt) of(v int64) any {
	if b.box == nil || b.v != v {
		b.v, b.box = v, v
	}
	return b.box
}

// insertRows writes vals, rows of cols values each, with multi-row INSERT OR
// IGNOREs: one statement per few hundred rows instead of one per row.
func (w *sqliteWriter) insertRows(ctx context.Context, table string, cols int, vals []any) error {
	return w.insert(ctx, "INSERT OR IGNORE", table, cols, vals)
}

// insert writes vals, rows of cols values each, with multi-row statements of
// verb (INSERT, INSERT OR IGNORE), each prepared once per transaction; those
// of bulkRows rows, most of a large batch's, once per store (Store.prepared).
func (w *sqliteWriter) insert(ctx context.Context, verb, table string, cols int, vals []any) error {
	for len(vals) > 0 {
		rows := min(len(vals)/cols, bulkRows)
		n := rows * cols
		if err := w.exec(ctx, insertSQL(verb, table, cols, rows), vals[:n]...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		vals = vals[n:]
	}
	return nil
}

// insertSQL is the statement that inserts rows rows of cols values each into
// table with verb (INSERT, INSERT OR IGNORE). The statements of bulkRows
// rows, most of a large batch's, are built once per shape and kept
// (fullSQL): each is thousands of characters, built again for every
// statement run (161 MB of the allocations of a 100,000-entity dev load).
func insertSQL(verb, table string, cols, rows int) string {
	if rows != bulkRows {
		return buildInsertSQL(verb, table, cols, rows)
	}
	k := insertShape{verb, table, cols}
	if q, ok := fullSQL.Load(k); ok {
		return q.(string)
	}
	q := buildInsertSQL(verb, table, cols, rows)
	fullSQL.Store(k, q)
	return q
}

// insertShape is the verb, table and columns of a multi-row insert.
type insertShape struct {
	verb, table string
	cols        int
}

// fullSQL holds the insertSQL of bulkRows rows by insertShape: a few, as
// the writer's tables are.
var fullSQL sync.Map

// buildInsertSQL renders insertSQL.
func buildInsertSQL(verb, table string, cols, rows int) string {
	row := "(" + placeholders(cols) + ")"
	var b strings.Builder
	b.Grow(len(verb) + len(table) + 14 + rows*(len(row)+1))
	b.WriteString(verb + " INTO " + table + " VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// fullInserts are the multi-row inserts of bulkRows rows the writer runs
// most: the store prepares them once (prepareInserts), instead of once per
// transaction, each compiling a statement of thousands of parameters.
var fullInserts = []struct {
	verb, table string
	cols        int
}{
	{entityInsert, entityTable, entityCols},
	{"INSERT OR IGNORE", "search(eid, kid, value, original, item)", searchCols},
	{"INSERT OR IGNORE", "relations(origin, type, ltype, target, target_ref, reverse, lreverse)", relationCols},
}

// prepareInserts prepares fullInserts on the writer connection.
func (s *Store) prepareInserts(ctx context.Context) error {
	s.prepared = map[string]*sql.Stmt{}
	for _, fi := range fullInserts {
		q := insertSQL(fi.verb, fi.table, fi.cols, bulkRows)
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("catalog store: prepare %s: %w", fi.table, err)
		}
		s.prepared[q] = st
	}
	return nil
}
