package catalogstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// applier holds the prepared statements of one Apply transaction.
type applier struct {
	tx                                    *sql.Tx
	getHash, upsert, delEntity            *sql.Stmt
	delRels, delSearch                    *sql.Stmt
	insLoc, delLoc, delLocErrs, insLocErr *sql.Stmt
	getUID                                *sql.Stmt

	// Search and relation rows are buffered and written with multi-row INSERTs:
	// one statement per few hundred rows instead of one per row.
	pendSearch []any
	pendRels   []any
	pendEIDs   map[int64]bool
	bulkMode   int
	bulk       map[string]*sql.Stmt
}

// Columns per buffered row, and rows per multi-row INSERT.
const (
	searchCols   = 4
	relationCols = 6
	bulkRows     = 400
	// flushRows is how many buffered rows trigger a flush before the batch ends.
	flushRows = 200000
)

// sortRows sorts a flat slice of rows of cols values each.
func sortRows(flat []any, cols int, cmp func(x, y []any) int) {
	n := len(flat) / cols
	if n < 2 {
		return
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = flat[i*cols : (i+1)*cols : (i+1)*cols]
	}
	slices.SortFunc(rows, cmp)
	out := make([]any, 0, len(flat))
	for _, r := range rows {
		out = append(out, r...)
	}
	copy(flat, out)
}

// flush writes the buffered search and relation rows. Rows are sorted by the key
// of the index they land in at random (search by key and value, relations by
// source), so each index page is visited once per flush, in order, instead of
// once per row: the difference between a read model that fits in the page cache
// and one that does not.
func (a *applier) flush(ctx context.Context) error {
	// Without the index a sort serves, rows go in as they come: in eid order, the
	// order of the tables' primary keys.
	if a.bulkMode == bulkOff {
		a.sortSearch()
	}
	if a.bulkMode != bulkReplay {
		a.sortRelations()
	}
	if err := a.flushTable(ctx, "search(eid, key, value, original)", "INSERT OR IGNORE", searchCols, &a.pendSearch); err != nil {
		return err
	}
	if err := a.flushTable(ctx, "relations(origin, source, type, ltype, target, target_ref)", "INSERT OR IGNORE", relationCols, &a.pendRels); err != nil {
		return err
	}
	clear(a.pendEIDs)
	return nil
}

// sortSearch orders buffered search rows by key, value and eid, the order of
// search_key_value.
func (a *applier) sortSearch() {
	sortRows(a.pendSearch, searchCols, func(x, y []any) int {
		if c := strings.Compare(x[1].(string), y[1].(string)); c != 0 {
			return c
		}
		if c := strings.Compare(x[2].(string), y[2].(string)); c != 0 {
			return c
		}
		return cmp.Compare(x[0].(int64), y[0].(int64))
	})
}

// sortRelations orders buffered relation rows by source, the order of
// relations_source.
func (a *applier) sortRelations() {
	sortRows(a.pendRels, relationCols, func(x, y []any) int {
		if c := strings.Compare(x[1].(string), y[1].(string)); c != 0 {
			return c
		}
		return cmp.Compare(x[0].(int64), y[0].(int64))
	})
}

func (a *applier) flushTable(ctx context.Context, table, verb string, cols int, pend *[]any) error {
	vals := *pend
	for len(vals) > 0 {
		rows := min(len(vals)/cols, bulkRows)
		n := rows * cols
		st, err := a.bulkStmt(ctx, table, verb, cols, rows)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, vals[:n]...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		vals = vals[n:]
	}
	*pend = (*pend)[:0]
	return nil
}

func (a *applier) bulkStmt(ctx context.Context, table, verb string, cols, rows int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s|%d", table, rows)
	if st, ok := a.bulk[key]; ok {
		return st, nil
	}
	row := "(" + placeholders(cols) + ")"
	var b strings.Builder
	b.WriteString(verb + " INTO " + table + " VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	st, err := a.tx.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	if a.bulk == nil {
		a.bulk = map[string]*sql.Stmt{}
	}
	a.bulk[key] = st
	return st, nil
}

// forget deletes an entity's search and relation rows, written or buffered.
func (a *applier) forget(ctx context.Context, eid int64) error {
	if a.pendEIDs[eid] {
		if err := a.flush(ctx); err != nil {
			return err
		}
	}
	if _, err := a.delRels.ExecContext(ctx, eid); err != nil {
		return err
	}
	_, err := a.delSearch.ExecContext(ctx, eid)
	return err
}

func (a *applier) prepare(ctx context.Context) error {
	stmts := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&a.getHash, `SELECT hash, uid, eid FROM entities WHERE key = ?`},
		{&a.getUID, `SELECT uid, eid FROM entities WHERE key = ?`},
		{&a.upsert, `INSERT INTO entities(key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(key) DO UPDATE SET ref=excluded.ref, uid=excluded.uid, kind=excluded.kind, namespace=excluded.namespace,
			name=excluded.name, hash=excluded.hash, location_id=excluded.location_id, managed_by=excluded.managed_by,
			body=excluded.body, updated_pos=excluded.updated_pos`},
		{&a.delEntity, `DELETE FROM entities WHERE key = ?`},
		{&a.delRels, `DELETE FROM relations WHERE origin = ?`},
		{&a.delSearch, `DELETE FROM search WHERE eid = ?`},
		{&a.insLoc, `INSERT INTO locations(id, type, target, entity_key, created_pos) VALUES (?,?,?,?,?) ON CONFLICT(id) DO NOTHING`},
		{&a.delLoc, `DELETE FROM locations WHERE id = ?`},
		{&a.delLocErrs, `DELETE FROM location_errors WHERE location_id = ?`},
		{&a.insLocErr, `INSERT INTO location_errors(location_id, seq, body, entity_key) VALUES (?,?,?,?)`},
	}
	for _, st := range stmts {
		p, err := a.tx.PrepareContext(ctx, st.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", st.sql, err)
		}
		*st.dst = p
	}
	return nil
}

// Apply folds events into the read model in one transaction with the position of
// the last event. Events at or below the stored position are skipped.
func (s *SQLite) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog store: begin: %w", err)
	}
	defer tx.Rollback()
	var applied int64
	if err := tx.QueryRowContext(ctx, `SELECT position FROM positions WHERE name = ?`, ProjectionName).Scan(&applied); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("catalog store: read position: %w", err)
	}
	a := &applier{tx: tx, pendEIDs: map[int64]bool{}, bulkMode: s.bulkMode}
	if err := a.prepare(ctx); err != nil {
		return fmt.Errorf("catalog store: %w", err)
	}
	last := applied
	for i := range events {
		ev := &events[i]
		if ev.Partition != 0 {
			return fmt.Errorf("catalog store: event %s is from partition %d: the SQLite read model folds a single-partition log", ev.ID, ev.Partition)
		}
		if ev.Position <= applied {
			continue
		}
		if err := a.apply(ctx, ev); err != nil {
			return fmt.Errorf("catalog store: apply event %s (%s, position %d): %w", ev.ID, ev.Type, ev.Position, err)
		}
		last = ev.Position
	}
	if last == applied {
		return nil
	}
	if err := a.flush(ctx); err != nil {
		return fmt.Errorf("catalog store: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO positions(name, position) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, ProjectionName, last); err != nil {
		return fmt.Errorf("catalog store: write position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("catalog store: commit: %w", err)
	}
	s.cache.invalidate()
	return nil
}

func (a *applier) apply(ctx context.Context, ev *event.Envelope) error {
	p, err := DecodePayload(ev)
	if err != nil {
		return err
	}
	switch {
	case p.Upsert != nil:
		return a.upsertEntity(ctx, ev.Position, *p.Upsert, p.Entity)
	case p.Remove != nil:
		return a.removeEntity(ctx, strings.ToLower(p.Remove.Ref), p.Remove.UID)
	case p.Register != nil:
		return a.registerLocation(ctx, ev.Position, *p.Register)
	case p.Unregister != nil:
		return a.removeLocation(ctx, p.Unregister.ID)
	case p.Errors != nil:
		return a.recordErrors(ctx, p.Errors.LocationID, p.Errors.Errors)
	}
	// Types this read model does not fold are skipped; the position still advances.
	return nil
}

func (a *applier) upsertEntity(ctx context.Context, pos int64, d event.EntityUpserted, ent *catalog.Entity) error {
	key := ent.Ref().Key()
	var curHash, curUID string
	var eid int64
	err := a.getHash.QueryRowContext(ctx, key).Scan(&curHash, &curUID, &eid)
	existed := err == nil
	if !existed {
		eid = pos
	}
	switch {
	case existed && curHash == d.Hash && curUID == d.UID:
		return nil // the same body again: nothing changes
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	return a.writeEntity(ctx, pos, ent, existed, eid, d.UID, d.Hash, d.LocationID, d.ManagedBy)
}

// writeEntity stores the entity row, its relations and its search rows.
func (a *applier) writeEntity(ctx context.Context, pos int64, ent *catalog.Entity, existed bool, eid int64, uid, hash, locationID, managedBy string) error {
	rows, err := NewEntityRows(ent, uid, hash)
	if err != nil {
		return err
	}
	if _, err := a.upsert.ExecContext(ctx, rows.Key, eid, rows.Ref, uid, rows.Kind, rows.Namespace,
		rows.Name, hash, locationID, managedBy, rows.Body, pos); err != nil {
		return err
	}
	if existed {
		if err := a.forget(ctx, eid); err != nil {
			return err
		}
	}
	for _, r := range rows.Relations {
		a.pendRels = append(a.pendRels, eid, r.Source, r.Type, strings.ToLower(r.Type), r.Target, r.TargetRef)
	}
	for _, row := range rows.Search {
		var original any
		if row.Original != nil {
			original = *row.Original // stored only when it differs from the lower-case value
		}
		a.pendSearch = append(a.pendSearch, eid, row.Key, row.Value, original)
	}
	a.pendEIDs[eid] = true
	if len(a.pendSearch) >= flushRows*searchCols || len(a.pendRels) >= flushRows*relationCols {
		return a.flush(ctx)
	}
	return nil
}

// etag derives an entity tag that changes whenever the body or uid does.
func etag(hash, uid string) string {
	return catalog.HashJSON([]byte(hash + uid))[:32]
}

func (a *applier) removeEntity(ctx context.Context, key, uid string) error {
	var cur string
	var eid int64
	err := a.getUID.QueryRowContext(ctx, key).Scan(&cur, &eid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if uid != "" && cur != uid {
		return nil // the entity was recreated since; this removal is stale
	}
	if _, err := a.delEntity.ExecContext(ctx, key); err != nil {
		return err
	}
	return a.forget(ctx, eid)
}

func (a *applier) registerLocation(ctx context.Context, pos int64, d event.LocationRegistered) error {
	ent, tt, err := LocationEntity(d)
	if err != nil {
		return err
	}
	res, err := a.insLoc.ExecContext(ctx, d.ID, d.Type, d.Target, ent.Ref().Key(), pos)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return a.writeEntity(ctx, pos, ent, false, pos, d.ID, ent.Hash(), "", tt)
}

func (a *applier) removeLocation(ctx context.Context, id string) error {
	var entityKey string
	err := a.tx.QueryRowContext(ctx, `SELECT entity_key FROM locations WHERE id = ?`, id).Scan(&entityKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := a.delLoc.ExecContext(ctx, id); err != nil {
		return err
	}
	if _, err := a.delLocErrs.ExecContext(ctx, id); err != nil {
		return err
	}
	return a.removeEntity(ctx, entityKey, id)
}

func (a *applier) recordErrors(ctx context.Context, locationID string, errs []event.ProcessingError) error {
	if _, err := a.delLocErrs.ExecContext(ctx, locationID); err != nil {
		return err
	}
	for i, pe := range errs {
		raw, err := json.Marshal(pe)
		if err != nil {
			return err
		}
		key := ""
		if pe.Entity != "" {
			if r, err := catalog.ParseRef(pe.Entity, catalog.RefDefaults{Kind: "Component"}); err == nil {
				key = r.Key()
			}
		}
		if _, err := a.insLocErr.ExecContext(ctx, locationID, i, raw, key); err != nil {
			return err
		}
	}
	return nil
}
