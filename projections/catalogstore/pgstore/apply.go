package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

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
	return RetryTx(ctx, s.pool, s.opts.ApplyAttempts, "catalog store (postgres)", func(tx pgx.Tx) error {
		return s.applyTx(ctx, tx, events)
	})
}

// entState is an entity as the batch leaves it.
type entState struct {
	inDB   bool  // the row existed before the batch
	dbEID  int64 // its eid then
	exists bool
	eid    int64
	hash   string
	uid    string
	dirty  bool            // changed by the batch
	ent    *catalog.Entity // the version to write when exists
	locID  string
	manBy  string
	pos    int64
	part   int32
}

// locState is a location as the batch leaves it.
type locState struct {
	inDB      bool
	exists    bool
	dirty     bool
	typ       string
	target    string
	entityKey string
	created   int64
}

// fold is one Apply's view of the rows it touches.
type fold struct {
	ents   map[string]*entState
	locs   map[string]*locState
	errs   map[string][]event.ProcessingError // location id -> its errors after the batch
	errIDs []string                           // the locations whose errors the batch replaced, in order
	bulk   bool                               // write rows unsorted
}

// op is one decoded event.
type op struct {
	ev     *event.Envelope
	upsert *event.EntityUpserted
	ent    *catalog.Entity
	key    string // the upserted entity's key
	remove *event.EntityRemoved
	reg    *event.LocationRegistered
	unreg  *event.LocationRemoved
	errs   *event.ProcessingErrorRecorded // Errors nil for a clear
}

// applyTx folds the events in tx.
func (s *Store) applyTx(ctx context.Context, tx pgx.Tx, events []event.Envelope) error {
	applied, err := LockPositions(ctx, tx, positionLockClass, "positions", catalogstore.ProjectionName, events)
	if err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}

	// Decode what is new, on every core: events are independent until folded.
	last := event.Positions{}
	var fresh []*event.Envelope
	for i := range events {
		ev := &events[i]
		if ev.Position <= applied[ev.Partition] {
			continue
		}
		fresh = append(fresh, ev)
		last[ev.Partition] = ev.Position
	}
	if len(fresh) == 0 {
		return nil
	}
	ops := make([]op, len(fresh))
	errs := make([]error, len(fresh))
	parallel(len(fresh), 16, func(i int) { ops[i], errs[i] = decode(fresh[i]) })
	for i, err := range errs {
		if err != nil {
			ev := fresh[i]
			return fmt.Errorf("catalog store (postgres): apply event %s (%s, partition %d, position %d): %w", ev.ID, ev.Type, ev.Partition, ev.Position, err)
		}
	}

	f := &fold{ents: map[string]*entState{}, locs: map[string]*locState{}, errs: map[string][]event.ProcessingError{}}
	if err := f.load(ctx, tx, ops); err != nil {
		return fmt.Errorf("catalog store (postgres): read current rows: %w", err)
	}
	for _, o := range ops {
		if err := f.apply(o); err != nil {
			return fmt.Errorf("catalog store (postgres): apply event %s (%s, partition %d, position %d): %w", o.ev.ID, o.ev.Type, o.ev.Partition, o.ev.Position, err)
		}
	}
	f.bulk = s.bulk.Load()
	if err := f.write(ctx, tx); err != nil {
		return fmt.Errorf("catalog store (postgres): write: %w", err)
	}

	if err := WritePositions(ctx, tx, "positions", catalogstore.ProjectionName, last); err != nil {
		return fmt.Errorf("catalog store (postgres): %w", err)
	}
	return nil
}

// decode reads an event's data; types the read model does not fold decode to
// an op that does nothing.
func decode(ev *event.Envelope) (op, error) {
	p, err := catalogstore.DecodePayload(ev)
	if err != nil {
		return op{ev: ev}, err
	}
	o := op{ev: ev, upsert: p.Upsert, ent: p.Entity, remove: p.Remove, reg: p.Register, unreg: p.Unregister, errs: p.Errors}
	if o.ent != nil {
		o.key = o.ent.Ref().Key()
	}
	return o, nil
}

// load reads the current rows of the locations and entities the ops touch.
func (f *fold) load(ctx context.Context, tx pgx.Tx, ops []op) error {
	var locIDs []string
	for _, o := range ops {
		switch {
		case o.reg != nil:
			locIDs = append(locIDs, o.reg.ID)
		case o.unreg != nil:
			locIDs = append(locIDs, o.unreg.ID)
		}
	}
	if len(locIDs) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, type, target, entity_key, created FROM locations WHERE id = ANY($1)`, locIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			l := &locState{inDB: true, exists: true}
			if err := rows.Scan(&id, &l.typ, &l.target, &l.entityKey, &l.created); err != nil {
				rows.Close()
				return err
			}
			f.locs[id] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var keys []string
	for _, o := range ops {
		switch {
		case o.ent != nil:
			keys = append(keys, o.key)
		case o.remove != nil:
			keys = append(keys, strings.ToLower(o.remove.Ref))
		case o.reg != nil:
			ent, _, err := catalogstore.LocationEntity(*o.reg)
			if err == nil {
				keys = append(keys, ent.Ref().Key())
			}
		case o.unreg != nil:
			if l := f.locs[o.unreg.ID]; l != nil {
				keys = append(keys, l.entityKey)
			}
		}
	}
	rows, err := tx.Query(ctx, `SELECT key, eid, hash, uid FROM entities WHERE key = ANY($1)`, keys)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		e := &entState{inDB: true, exists: true}
		if err := rows.Scan(&key, &e.eid, &e.hash, &e.uid); err != nil {
			return err
		}
		e.dbEID = e.eid
		f.ents[key] = e
	}
	return rows.Err()
}

func (f *fold) ent(key string) *entState {
	e := f.ents[key]
	if e == nil {
		e = &entState{}
		f.ents[key] = e
	}
	return e
}

// apply folds one event, as the SQLite store does.
func (f *fold) apply(o op) error {
	pos, part := o.ev.Position, o.ev.Partition
	switch {
	case o.upsert != nil:
		d := o.upsert
		e := f.ent(o.key)
		if e.exists && e.hash == d.Hash && e.uid == d.UID {
			return nil // the same body again: nothing changes
		}
		eid := eidOf(pos, part)
		if e.exists {
			eid = e.eid
		}
		f.write1(e, o.ent, eid, d.UID, d.Hash, d.LocationID, d.ManagedBy, pos, part)
	case o.remove != nil:
		f.removeEntity(strings.ToLower(o.remove.Ref), o.remove.UID)
	case o.reg != nil:
		d := o.reg
		l := f.locs[d.ID]
		if l != nil && l.exists {
			return nil
		}
		ent, managedBy, err := catalogstore.LocationEntity(*d)
		if err != nil {
			return err
		}
		key := ent.Ref().Key()
		f.locs[d.ID] = &locState{inDB: l != nil && l.inDB, exists: true, dirty: true, typ: d.Type, target: d.Target, entityKey: key, created: eidOf(pos, part)}
		e := f.ent(key)
		eid := eidOf(pos, part)
		if e.exists {
			eid = e.eid // an entity of that ref already exists: its row keeps its eid
		}
		f.write1(e, ent, eid, d.ID, ent.Hash(), "", managedBy, pos, part)
	case o.unreg != nil:
		l := f.locs[o.unreg.ID]
		if l == nil || !l.exists {
			return nil
		}
		l.exists, l.dirty = false, true
		f.setErrors(o.unreg.ID, nil)
		f.removeEntity(l.entityKey, o.unreg.ID)
	case o.errs != nil:
		f.setErrors(o.errs.LocationID, o.errs.Errors)
	}
	return nil
}

// write1 records the entity's new version; its rows are built once, for the
// version the batch leaves, by write.
func (f *fold) write1(e *entState, ent *catalog.Entity, eid int64, uid, hash, locID, managedBy string, pos int64, part int32) {
	e.exists, e.dirty = true, true
	e.eid, e.hash, e.uid = eid, hash, uid
	e.ent, e.locID, e.manBy, e.pos, e.part = ent, locID, managedBy, pos, part
}

func (f *fold) removeEntity(key, uid string) {
	e := f.ent(key)
	if !e.exists {
		return
	}
	if uid != "" && e.uid != uid {
		return // the entity was recreated since; this removal is stale
	}
	e.exists, e.dirty = false, true
	e.ent = nil
}

func (f *fold) setErrors(locID string, errs []event.ProcessingError) {
	if _, seen := f.errs[locID]; !seen {
		f.errIDs = append(f.errIDs, locID)
	}
	f.errs[locID] = errs
}

// searchRow and relationRow are rows of the search and relations tables.
type searchRow struct {
	eid        int64
	key, value string
	original   *string
}

type relationRow struct {
	origin                                int64
	source, typ, ltype, target, targetRef string
}

// entityRows are the rows of one entity version.
type entityRows struct {
	catalogstore.EntityRows
	search []searchRow
	rels   []relationRow
	err    error
}

// buildRows computes the rows of the entity version e leaves, without the
// duplicates the tables' keys refuse: the first of each wins, as with INSERT
// OR IGNORE.
func buildRows(e *entState) entityRows {
	r, err := catalogstore.NewEntityRows(e.ent, e.uid, e.hash)
	if err != nil {
		return entityRows{err: err}
	}
	out := entityRows{EntityRows: r, search: make([]searchRow, 0, len(r.Search)), rels: make([]relationRow, 0, len(r.Relations))}
	seen := make(map[[2]string]bool, len(r.Search))
	for _, sr := range r.Search {
		id := [2]string{sr.Key, sr.Value}
		if seen[id] {
			continue
		}
		seen[id] = true
		out.search = append(out.search, searchRow{eid: e.eid, key: sr.Key, value: sr.Value, original: sr.Original})
	}
	seenRel := make(map[[3]string]bool, len(r.Relations))
	for _, rel := range r.Relations {
		id := [3]string{rel.Source, rel.Type, rel.Target}
		if seenRel[id] {
			continue
		}
		seenRel[id] = true
		out.rels = append(out.rels, relationRow{origin: e.eid, source: rel.Source, typ: rel.Type, ltype: strings.ToLower(rel.Type), target: rel.Target, targetRef: rel.TargetRef})
	}
	return out
}

// write replaces the touched rows: deletes what the batch changed or removed,
// then copies in the final versions.
func (f *fold) write(ctx context.Context, tx pgx.Tx) error {
	var oldEIDs []int64
	keys := make([]string, 0, len(f.ents))
	for k, e := range f.ents {
		if e.dirty {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // a stable order of work, so concurrent transactions meet rows in one order
	var live []*entState
	for _, k := range keys {
		e := f.ents[k]
		if e.inDB {
			oldEIDs = append(oldEIDs, e.dbEID)
		}
		if e.exists {
			live = append(live, e)
		}
	}
	// Each entity's rows once, on every core.
	built := make([]entityRows, len(live))
	parallel(len(live), 8, func(i int) { built[i] = buildRows(live[i]) })
	var nSearch, nRels, nBody int
	for i := range built {
		if built[i].err != nil {
			return fmt.Errorf("entity %s: %w", built[i].Key, built[i].err)
		}
		nSearch += len(built[i].search)
		nRels += len(built[i].rels)
		nBody += len(built[i].Body)
	}
	entBuf := newCopyBuf(nBody + len(built)*256)
	searchRows := make([]searchRow, 0, nSearch)
	relRows := make([]relationRow, 0, nRels)
	for i, e := range live {
		r := &built[i]
		entBuf.row(13)
		entBuf.int8(e.eid)
		entBuf.text(r.Key)
		entBuf.text(r.Ref)
		entBuf.text(e.uid)
		entBuf.text(r.Kind)
		entBuf.text(r.Namespace)
		entBuf.text(r.Name)
		entBuf.text(e.hash)
		entBuf.text(e.locID)
		entBuf.text(e.manBy)
		entBuf.bytea(r.Body)
		entBuf.int8(e.pos)
		entBuf.int4(e.part)
		searchRows = append(searchRows, r.search...)
		relRows = append(relRows, r.rels...)
	}
	built = nil

	var locDel []string
	locBuf := newCopyBuf(0)
	locIDs := make([]string, 0, len(f.locs))
	for id, l := range f.locs {
		if l.dirty {
			locIDs = append(locIDs, id)
		}
	}
	slices.Sort(locIDs)
	for _, id := range locIDs {
		l := f.locs[id]
		if l.inDB {
			locDel = append(locDel, id)
		}
		if l.exists {
			locBuf.row(5)
			locBuf.text(id)
			locBuf.text(l.typ)
			locBuf.text(l.target)
			locBuf.text(l.entityKey)
			locBuf.int8(l.created)
		}
	}
	errBuf := newCopyBuf(0)
	for _, id := range f.errIDs {
		for i, pe := range f.errs[id] {
			raw, err := json.Marshal(pe)
			if err != nil {
				return err
			}
			errBuf.row(4)
			errBuf.text(id)
			errBuf.int4(int32(i))
			errBuf.bytea(raw)
			errBuf.text(catalogstore.ErrorEntityKey(pe))
		}
	}

	// Rows go in sorted by the index they land in at random places (search by key
	// and value, relations by source): each index page is then visited once per
	// batch, in order, instead of once per row.
	parallel(2, 1, func(i int) {
		if f.bulk {
			return
		}
		if i == 0 {
			slices.SortFunc(searchRows, func(x, y searchRow) int {
				if c := strings.Compare(x.key, y.key); c != 0 {
					return c
				}
				if c := strings.Compare(x.value, y.value); c != 0 {
					return c
				}
				return cmp.Compare(x.eid, y.eid)
			})
			return
		}
		slices.SortFunc(relRows, func(x, y relationRow) int {
			if c := strings.Compare(x.source, y.source); c != 0 {
				return c
			}
			return cmp.Compare(x.origin, y.origin)
		})
	})
	searchBuf := newCopyBuf(len(searchRows) * 64)
	for _, r := range searchRows {
		searchBuf.row(4)
		searchBuf.int8(r.eid)
		searchBuf.text(r.key)
		searchBuf.text(r.value)
		searchBuf.textOrNull(r.original)
	}
	relBuf := newCopyBuf(len(relRows) * 128)
	for _, r := range relRows {
		relBuf.row(6)
		relBuf.int8(r.origin)
		relBuf.text(r.source)
		relBuf.text(r.typ)
		relBuf.text(r.ltype)
		relBuf.text(r.target)
		relBuf.text(r.targetRef)
	}

	b := &pgx.Batch{}
	if len(oldEIDs) > 0 {
		b.Queue(`DELETE FROM relations WHERE origin = ANY($1)`, oldEIDs)
		b.Queue(`DELETE FROM search WHERE eid = ANY($1)`, oldEIDs)
		b.Queue(`DELETE FROM entities WHERE eid = ANY($1)`, oldEIDs)
	}
	if len(locDel) > 0 {
		b.Queue(`DELETE FROM locations WHERE id = ANY($1)`, locDel)
	}
	if len(f.errIDs) > 0 {
		b.Queue(`DELETE FROM location_errors WHERE location_id = ANY($1)`, f.errIDs)
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
		{"search", "eid, key, value, original", searchBuf},
		{"relations", "origin, source, type, ltype, target, target_ref", relBuf},
	}
	for _, c := range copies {
		if err := copyInto(ctx, tx, c.table, c.cols, c.buf); err != nil {
			return err
		}
	}
	return nil
}
