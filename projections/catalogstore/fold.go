package catalogstore

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// This file is the catalog fold, written once: pure Go over the events of a
// batch and the rows they touch, which the adapter loads before and persists
// after. Adapters differ only in how they load and write.
//
//	batch, err := DecodeBatch(events, applied)        // what is new, decoded
//	locs := load locations batch.LocationIDs() names
//	ents := load entities batch.EntityKeys(locs) names
//	ch, err := batch.Fold(State{ents, locs}, eidOf)   // the rows to delete and write
//	persist ch, then ch.Last as the new positions

// EIDFunc returns the eid of an entity created by the event at position pos of
// partition part: unique, increasing within a partition, the same on every
// replay. Locations record the same value as their creation order.
type EIDFunc func(pos int64, part int32) int64

// StoredEntity is an entity row as an adapter loads it before a fold.
type StoredEntity struct {
	EID  int64
	Hash string
	UID  string
}

// StoredLocation is a location row as an adapter loads it before a fold.
type StoredLocation struct {
	Type, Target, EntityKey string
	// Created is the eid of the event that registered the location.
	Created int64
}

// State is what a fold needs of the read model: the rows of the entities and
// locations a batch touches (those DecodeBatch's LocationIDs and EntityKeys
// name), keyed by entity key and location id. Absent keys do not exist.
type State struct {
	Entities  map[string]StoredEntity
	Locations map[string]StoredLocation
}

// Batch is the new events of one Apply, decoded.
type Batch struct {
	ops []op
	// Last is the position of the last new event of each partition: the
	// positions the adapter records with the batch's rows.
	Last event.Positions
}

// op is one decoded event.
type op struct {
	ev  *event.Envelope
	p   Payload
	key string // the upserted entity's key
}

// DecodeBatch keeps the events above applied's position of their partition and
// decodes them, on every core: events are independent until folded. It fails
// on the first event whose data does not decode, naming the event.
func DecodeBatch(events []event.Envelope, applied event.Positions) (*Batch, error) {
	b := &Batch{Last: event.Positions{}}
	var fresh []*event.Envelope
	for i := range events {
		ev := &events[i]
		if ev.Position <= applied[ev.Partition] {
			continue
		}
		fresh = append(fresh, ev)
		b.Last[ev.Partition] = ev.Position
	}
	b.ops = make([]op, len(fresh))
	errs := make([]error, len(fresh))
	parallel(len(fresh), 16, func(i int) { b.ops[i], errs[i] = decodeOp(fresh[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, eventError(fresh[i], err)
		}
	}
	return b, nil
}

// decodeOp decodes one event.
func decodeOp(ev *event.Envelope) (op, error) {
	p, err := DecodePayload(ev)
	o := op{ev: ev, p: p}
	if p.Entity != nil {
		o.key = p.Entity.Ref().Key()
	}
	return o, err
}

// Decoded is a slice of events decoded ahead of the Apply that folds them
// (DecodeAhead), on another goroutine than the adapter's writer.
type Decoded struct {
	events []event.Envelope
	ops    []op
	errs   []error
}

// DecodeAhead decodes every event of events, on every core, for a later
// Decoded.Batch; it keeps events, which must not change until then.
func DecodeAhead(events []event.Envelope) *Decoded {
	d := &Decoded{events: events, ops: make([]op, len(events)), errs: make([]error, len(events))}
	parallel(len(events), 16, func(i int) { d.ops[i], d.errs[i] = decodeOp(&events[i]) })
	return d
}

// Of reports whether d decoded events: the same slice, as a projector hands
// the batch it read ahead to Apply.
func (d *Decoded) Of(events []event.Envelope) bool {
	return d != nil && len(d.events) == len(events) && len(events) > 0 && &d.events[0] == &events[0]
}

// Batch is DecodeBatch(events, applied) of the events d decoded, without
// decoding them again: the same batch, or the same error.
func (d *Decoded) Batch(applied event.Positions) (*Batch, error) {
	b := &Batch{Last: event.Positions{}, ops: make([]op, 0, len(d.ops))}
	for i, o := range d.ops {
		ev := o.ev
		if ev.Position <= applied[ev.Partition] {
			continue
		}
		if d.errs[i] != nil {
			return nil, eventError(ev, d.errs[i])
		}
		b.ops = append(b.ops, o)
		b.Last[ev.Partition] = ev.Position
	}
	return b, nil
}

// eventError names the event a fold failed on.
func eventError(ev *event.Envelope, err error) error {
	return fmt.Errorf("apply event %s (%s, partition %d, position %d): %w", ev.ID, ev.Type, ev.Partition, ev.Position, err)
}

// Len is the number of new events.
func (b *Batch) Len() int { return len(b.ops) }

// LocationIDs lists the locations the batch registers or removes, whose rows
// the adapter loads first.
func (b *Batch) LocationIDs() []string {
	var ids []string
	for _, o := range b.ops {
		switch {
		case o.p.Register != nil:
			ids = append(ids, o.p.Register.ID)
		case o.p.Unregister != nil:
			ids = append(ids, o.p.Unregister.ID)
		}
	}
	return ids
}

// EntityKeys lists the entities the batch touches, given the locations loaded
// for LocationIDs (a removed location names its entity); keys may repeat.
func (b *Batch) EntityKeys(locs map[string]StoredLocation) []string {
	var keys []string
	for _, o := range b.ops {
		switch {
		case o.p.Entity != nil:
			keys = append(keys, o.key)
		case o.p.Remove != nil:
			keys = append(keys, strings.ToLower(o.p.Remove.Ref))
		case o.p.Register != nil:
			if ent, _, err := LocationEntity(*o.p.Register); err == nil {
				keys = append(keys, ent.Ref().Key())
			}
		case o.p.Unregister != nil:
			if l, ok := locs[o.p.Unregister.ID]; ok {
				keys = append(keys, l.EntityKey)
			}
		}
	}
	return keys
}

// Changes is what a batch does to the read model: the rows to delete, then the
// rows to insert. Deleting first and inserting after gives the same tables as
// applying the events one at a time.
type Changes struct {
	// DeleteEIDs are the entities, by the eid they had before the batch, whose
	// entity, search and relation rows the batch replaces or removes; sorted by key.
	DeleteEIDs []int64
	// Entities are the entity rows to insert, sorted by key.
	Entities []EntityRecord
	// Search and Relations are the entities' search and relation rows, in
	// entity order unless sorted (SortRows); without duplicates of the tables'
	// keys (the first of each wins).
	Search    []SearchRecord
	Relations []RelationRecord
	// DeleteLocations are locations that existed before the batch and that it
	// changed or removed; Locations the location rows to insert. Both sorted by id.
	DeleteLocations []string
	Locations       []LocationRecord
	// ErrorLocations are the locations whose errors the batch replaced, in the
	// order it first did; LocationErrors their errors after the batch.
	ErrorLocations []string
	LocationErrors []LocationErrorRecord
}

// EntityRecord is one row of the entities table.
type EntityRecord struct {
	EntityRows
	EID                   int64
	UID, Hash             string
	LocationID, ManagedBy string
	UpdatedPos            int64
	UpdatedPart           int32
}

// SearchRecord is one row of the search table.
type SearchRecord struct {
	EID        int64
	Key, Value string
	// Original is the value as written when it differs from Value, else nil.
	Original *string
	// Item marks a row a list's string item made (Key holds the list,
	// Value the item): it stands for the row Key.Value=ItemValue too, which
	// is not stored (ItemKeys).
	Item bool
}

// RelationRecord is one row of the relations table: a relation entity
// Origin declares, from itself to Target, stored once. Its reverse, from
// Target back to the origin, of type Reverse, is derived by readers through
// the table's index on Target; LType and LReverse are the types in lower case,
// as filters compare them.
type RelationRecord struct {
	Origin            int64
	Type, LType       string
	Target, TargetRef string
	Reverse, LReverse string
}

// LocationRecord is one row of the locations table.
type LocationRecord struct {
	ID, Type, Target, EntityKey string
	Created                     int64
}

// LocationErrorRecord is one row of the location_errors table.
type LocationErrorRecord struct {
	LocationID string
	Seq        int
	// Body is the error's JSON.
	Body []byte
	// EntityKey is the key of the entity it concerns, or "".
	EntityKey string
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
	raw    []byte          // ent's JSON as the event carried it, or nil
	locID  string
	manBy  string
	pos    int64
	part   int32
}

// locState is a location as the batch leaves it.
type locState struct {
	inDB   bool
	exists bool
	dirty  bool
	StoredLocation
}

// folder is one fold's view of the rows the batch touches.
type folder struct {
	eidOf  EIDFunc
	ents   map[string]*entState
	locs   map[string]*locState
	errs   map[string][]event.ProcessingError // location id -> its errors after the batch
	errIDs []string                           // the locations whose errors the batch replaced, in order
}

// Fold folds the batch over st, the rows it touches as they were before, and
// returns the rows to delete and write. Events apply in the batch's order, as
// one at a time would: an upsert of the body an entity has changes nothing, a
// removal of an entity since recreated (another uid) is stale, a location
// registered twice keeps the first. eidOf numbers the entities the batch creates.
func (b *Batch) Fold(st State, eidOf EIDFunc) (*Changes, error) {
	f := &folder{eidOf: eidOf, ents: make(map[string]*entState, len(st.Entities)), locs: make(map[string]*locState, len(st.Locations)), errs: map[string][]event.ProcessingError{}}
	for k, e := range st.Entities {
		f.ents[k] = &entState{inDB: true, exists: true, dbEID: e.EID, eid: e.EID, hash: e.Hash, uid: e.UID}
	}
	for id, l := range st.Locations {
		f.locs[id] = &locState{inDB: true, exists: true, StoredLocation: l}
	}
	for _, o := range b.ops {
		if err := f.apply(o); err != nil {
			return nil, eventError(o.ev, err)
		}
	}
	return f.changes()
}

func (f *folder) ent(key string) *entState {
	e := f.ents[key]
	if e == nil {
		e = &entState{}
		f.ents[key] = e
	}
	return e
}

// apply folds one event.
func (f *folder) apply(o op) error {
	pos, part := o.ev.Position, o.ev.Partition
	switch p := o.p; {
	case p.Upsert != nil:
		d := p.Upsert
		e := f.ent(o.key)
		if e.exists && e.hash == d.Hash && e.uid == d.UID {
			return nil // the same body again: nothing changes
		}
		eid := f.eidOf(pos, part)
		if e.exists {
			eid = e.eid
		}
		f.write(e, p.Entity, eid, d.UID, d.Hash, d.LocationID, d.ManagedBy, pos, part)
		e.raw = d.Entity
	case p.Remove != nil:
		f.removeEntity(strings.ToLower(p.Remove.Ref), p.Remove.UID)
	case p.Register != nil:
		d := p.Register
		l := f.locs[d.ID]
		if l != nil && l.exists {
			return nil
		}
		ent, managedBy, err := LocationEntity(*d)
		if err != nil {
			return err
		}
		key := ent.Ref().Key()
		f.locs[d.ID] = &locState{inDB: l != nil && l.inDB, exists: true, dirty: true,
			StoredLocation: StoredLocation{Type: d.Type, Target: d.Target, EntityKey: key, Created: f.eidOf(pos, part)}}
		e := f.ent(key)
		eid := f.eidOf(pos, part)
		if e.exists {
			eid = e.eid // an entity of that ref already exists: its row keeps its eid
		}
		f.write(e, ent, eid, d.ID, ent.Hash(), "", managedBy, pos, part)
	case p.Unregister != nil:
		l := f.locs[p.Unregister.ID]
		if l == nil || !l.exists {
			return nil
		}
		l.exists, l.dirty = false, true
		f.setErrors(p.Unregister.ID, nil)
		f.removeEntity(l.EntityKey, p.Unregister.ID)
	case p.Errors != nil:
		f.setErrors(p.Errors.LocationID, p.Errors.Errors)
	}
	// Types this read model does not fold change nothing; the position still advances.
	return nil
}

// write records the entity's new version; its rows are built once, for the
// version the batch leaves, by changes.
func (f *folder) write(e *entState, ent *catalog.Entity, eid int64, uid, hash, locID, managedBy string, pos int64, part int32) {
	e.exists, e.dirty = true, true
	e.eid, e.hash, e.uid = eid, hash, uid
	e.ent, e.locID, e.manBy, e.pos, e.part = ent, locID, managedBy, pos, part
	e.raw = nil
}

func (f *folder) removeEntity(key, uid string) {
	e := f.ent(key)
	if !e.exists {
		return
	}
	if uid != "" && e.uid != uid {
		return // the entity was recreated since; this removal is stale
	}
	e.exists, e.dirty = false, true
	e.ent, e.raw = nil, nil
}

func (f *folder) setErrors(locID string, errs []event.ProcessingError) {
	if _, seen := f.errs[locID]; !seen {
		f.errIDs = append(f.errIDs, locID)
	}
	f.errs[locID] = errs
}

// built is the rows of one entity version.
type built struct {
	rows   EntityRows
	search []SearchRecord
	rels   []RelationRecord
	err    error
}

// buildRows computes the rows of the entity version e leaves, without the
// duplicates the tables' keys refuse: the first of each wins, as with INSERT
// OR IGNORE. They are NewEntityRows's, made from the event's bytes when it
// can (storedJSON) and without copies between row types.
// key is the entity's key (its ref's); keys, when set, gives the search keys
// of paths other entities had, and text the lower case of kinds and relation
// types. The search rows are appended to search, whose
// growth buildRows returns: entities built one after another share its array.
// The relation rows are appended to rels, which the caller gives the
// capacity of the entity's relations (Declared) so they land in its array.
func buildRows(e *entState, key string, keys *searchKeys, text *relationText, search []SearchRecord, rels []RelationRecord) (built, []SearchRecord) {
	var raw []byte
	if e.raw != nil {
		raw, _ = storedJSON(e.raw, e.uid, e.hash)
	}
	if raw == nil {
		var err error
		if raw, err = catalog.EncodeJSON(StoredBody(e.ent, e.uid, e.hash)); err != nil {
			return built{err: err}, search
		}
	}
	ref := e.ent.Ref()
	out := built{rows: EntityRows{
		Key: key, Ref: displayRef(ref, key),
		Kind: text.lowerOf(ref.Kind), Namespace: strings.ToLower(ref.Namespace), Name: strings.ToLower(ref.Name),
		Body: raw,
	}}
	// The stored body's search rows are the entity body's: the walk leaves
	// out relations, status and metadata's uid, etag and namespace.
	start := len(search)
	search = appendSearchKeys(search, e.eid, e.ent.Body(), keys)
	out.search = search[start:len(search):len(search)]
	out.rels = rels
	for _, rel := range e.ent.Declared() { // Declared names each relation once
		target, targetRef := targetText(rel.Target)
		out.rels = append(out.rels, RelationRecord{Origin: e.eid, Type: rel.Type, LType: text.lowerOf(rel.Type),
			Target: target, TargetRef: targetRef, Reverse: rel.Reverse, LReverse: text.lowerOf(rel.Reverse)})
	}
	return out, search
}

// buildRun is how many entities' rows changes builds with one searchKeys,
// their search rows in one region of an array.
const buildRun = 128

// searchRowsGuess is how many search rows an entity is guessed to have, to
// size the region of a run's search rows (21 for a realistic component,
// storetest.ComponentBody).
const searchRowsGuess = 24

// changes turns the fold's state into rows.
func (f *folder) changes() (*Changes, error) {
	ch := &Changes{}
	keys := make([]string, 0, len(f.ents))
	for k, e := range f.ents {
		if e.dirty {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // a stable order of work, so concurrent transactions meet rows in one order
	var live []*entState
	var liveKeys []string
	for _, k := range keys {
		e := f.ents[k]
		if e.inDB {
			ch.DeleteEIDs = append(ch.DeleteEIDs, e.dbEID)
		}
		if e.exists {
			live = append(live, e)
			liveKeys = append(liveKeys, k)
		}
	}
	// Each entity's rows once, on every core, in runs of entities that share
	// the search keys they make, written where Changes holds them rather than
	// copied there after: an entity knows its relations' count (Declared), so
	// they land at their place in ch.Relations; the search rows of each run
	// fill a region of one array sized by searchRowsGuess and are closed up
	// after (joinRuns). Each copy cost a batch an array as large as its rows.
	rows := make([]built, len(live))
	relAt := make([]int, len(live)+1)
	for i, e := range live {
		relAt[i+1] = relAt[i] + len(e.ent.Declared())
	}
	ch.Relations = make([]RelationRecord, relAt[len(live)])
	runs := (len(live) + buildRun - 1) / buildRun
	search := make([]SearchRecord, len(live)*searchRowsGuess)
	runSearch := make([][]SearchRecord, runs)
	parallel(runs, 1, func(r int) {
		sk, text := newSearchKeys(), newRelationText()
		lo, hi := r*buildRun, min((r+1)*buildRun, len(live))
		s := search[lo*searchRowsGuess : lo*searchRowsGuess : hi*searchRowsGuess]
		for i := lo; i < hi; i++ {
			rows[i], s = buildRows(live[i], liveKeys[i], sk, text, s, ch.Relations[relAt[i]:relAt[i]:relAt[i+1]])
		}
		runSearch[r] = s
	})
	for i := range rows {
		if rows[i].err != nil {
			return nil, fmt.Errorf("entity %s: %w", live[i].ent.Ref().Key(), rows[i].err)
		}
	}
	ch.Search = joinRuns(search, runSearch)
	ch.Entities = make([]EntityRecord, len(live))
	for i, e := range live {
		ch.Entities[i] = EntityRecord{EntityRows: rows[i].rows, EID: e.eid, UID: e.uid, Hash: e.hash,
			LocationID: e.locID, ManagedBy: e.manBy, UpdatedPos: e.pos, UpdatedPart: e.part}
	}

	ids := make([]string, 0, len(f.locs))
	for id, l := range f.locs {
		if l.dirty {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		l := f.locs[id]
		if l.inDB {
			ch.DeleteLocations = append(ch.DeleteLocations, id)
		}
		if l.exists {
			ch.Locations = append(ch.Locations, LocationRecord{ID: id, Type: l.Type, Target: l.Target, EntityKey: l.EntityKey, Created: l.Created})
		}
	}
	ch.ErrorLocations = f.errIDs
	for _, id := range f.errIDs {
		for i, pe := range f.errs[id] {
			raw, err := json.Marshal(pe)
			if err != nil {
				return nil, fmt.Errorf("location %s: error %d: %w", id, i, err)
			}
			ch.LocationErrors = append(ch.LocationErrors, LocationErrorRecord{LocationID: id, Seq: i, Body: raw, EntityKey: ErrorEntityKey(pe)})
		}
	}
	return ch, nil
}

// joinRuns returns the rows of runs, one after another. Each run was built
// in its region of all, searchRowsGuess rows an entity in order, unless it
// outgrew it (append moved it elsewhere): when every run fits its region, the
// rows are closed up in all, each run moved down to the end of the one
// before, which is never past its own start; else they are copied to an
// array of their own.
func joinRuns(all []SearchRecord, runs [][]SearchRecord) []SearchRecord {
	n, inPlace := 0, true
	for r, s := range runs {
		n += len(s)
		inPlace = inPlace && len(s) <= min(buildRun*searchRowsGuess, len(all)-r*buildRun*searchRowsGuess)
	}
	if !inPlace {
		out := make([]SearchRecord, 0, n)
		for _, s := range runs {
			out = append(out, s...)
		}
		return out
	}
	off := 0
	for _, s := range runs {
		off += copy(all[off:], s)
	}
	return all[:off:off]
}

// SortRows orders the search rows by key, value and eid and the relation rows
// by target and origin, near the orders of the indexes they land in at random
// places (search_key_value, whose keys are ids, one per key, so rows are
// grouped alike; relations_target): each index page is then visited
// once per batch, in order, instead of once per row. Without those indexes, as
// during a bulk load, rows are best written in entity order, unsorted.
func (ch *Changes) SortRows(search, relations bool) {
	parallel(2, 1, func(i int) {
		if i == 0 && search {
			sortSearch(ch.Search)
		}
		if i == 1 && relations {
			slices.SortFunc(ch.Relations, func(x, y RelationRecord) int {
				if c := strings.Compare(x.Target, y.Target); c != 0 {
					return c
				}
				return cmp.Compare(x.Origin, y.Origin)
			})
		}
	})
}

// sortSearch sorts rows by key, value and eid. Rows share few keys, and
// long ones (metadata.annotations.…): they are grouped by key first, so each
// comparison of the sort proper looks at values alone.
func sortSearch(rows []SearchRecord) {
	groups := map[string][]SearchRecord{}
	for _, r := range rows {
		groups[r.Key] = append(groups[r.Key], r)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := rows[:0]
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g, func(x, y SearchRecord) int {
			if c := strings.Compare(x.Value, y.Value); c != 0 {
				return c
			}
			return cmp.Compare(x.EID, y.EID)
		})
		out = append(out, g...)
	}
}
