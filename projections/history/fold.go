package history

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// Head is the current (last) version of a key as a store holds it: what Fold
// needs to number, dedupe and close versions.
type Head struct {
	// Key and Ref are the version's key and display ref.
	Key, Ref string
	// Number is the version's number.
	Number int
	// UID and Hash are the version's; Hash is empty for a removal.
	UID, Hash string
	// Removed is set when the version records a removal.
	Removed bool
	// From is the version's ValidFrom.
	From Mark
}

// HeadOf returns the head a version makes.
func HeadOf(v *Version) Head {
	return Head{Key: v.Key, Ref: v.Ref, Number: v.Number, UID: v.UID, Hash: v.Hash, Removed: v.Removed, From: v.ValidFrom}
}

// Closing closes a version a store already holds: its ValidTo becomes To.
type Closing struct {
	Key    string
	Number int
	To     Mark
}

// Location is a registered location as the history keeps it: its id and the
// key of its generated Location entity.
type Location struct {
	ID, Key string
}

// Change is what a batch changes in a store: the rows to write.
type Change struct {
	// New are the versions the batch made, in the order of their events; those
	// the batch also closed have ValidTo set.
	New []Version
	// Closed are the versions the store held as current that the batch closed.
	Closed []Closing
	// DeleteLocations are the ids of stored locations the batch removed or
	// replaced; PutLocations the locations to store after that.
	DeleteLocations []string
	PutLocations    []Location
	// Digests lists every event of the batch that was applied, in batch order.
	Digests []EventDigest
	// Last is the position of the last applied event of each partition.
	Last event.Positions
	// Rows, when the batch was folded WithCatalogRows, holds for each of New
	// (same index) the rows the catalog read model stores for that version:
	// its stored body, search rows and relations; the zero EntityRows for a
	// removal. A store that keeps them answers catalog queries at any instant
	// without building a catalog first.
	Rows []catalogstore.EntityRows
}

// op is one decoded event.
type op struct {
	ev     *event.Envelope
	upsert *event.EntityUpserted
	ent    *catalog.Entity
	remove *event.EntityRemoved
	reg    *event.LocationRegistered
	unreg  *event.LocationRemoved
}

// Batch is a batch of events decoded for Fold: those above the positions a
// store had applied.
type Batch struct {
	ops  []op
	rows bool
}

// WithCatalogRows makes Fold fill Change.Rows, and returns b.
func (b *Batch) WithCatalogRows() *Batch {
	b.rows = true
	return b
}

// Decode decodes the events that lie above applied (their partition's
// position), in order. It fails on an event whose data does not decode, naming it.
func Decode(events []event.Envelope, applied event.Positions) (*Batch, error) {
	b := &Batch{}
	for i := range events {
		ev := &events[i]
		if ev.Position <= applied[ev.Partition] {
			continue
		}
		o, err := decode(ev)
		if err != nil {
			return nil, fmt.Errorf("history: event %s (%s, partition %d, position %d): %w", ev.ID, ev.Type, ev.Partition, ev.Position, err)
		}
		b.ops = append(b.ops, o)
	}
	return b, nil
}

// Empty reports a batch with nothing to apply.
func (b *Batch) Empty() bool { return len(b.ops) == 0 }

// decode reads an event's data as the newest version of its type. The history keeps no processing errors, so
// their events are not decoded; a registered location's op carries the
// Location entity the catalog generates for it.
func decode(ev *event.Envelope) (op, error) {
	o := op{ev: ev}
	switch event.Type(ev.Type).Latest() {
	case event.TypeProcessingErrorRecorded, event.TypeProcessingErrorCleared:
		return o, nil
	}
	p, err := catalogstore.DecodePayload(ev)
	if err != nil {
		return o, err
	}
	o.upsert, o.ent, o.remove, o.reg, o.unreg = p.Upsert, p.Entity, p.Remove, p.Register, p.Unregister
	if o.reg != nil {
		ent, _, err := catalogstore.LocationEntity(*o.reg)
		if err != nil {
			return o, err
		}
		o.ent = ent
	}
	return o, nil
}

// LocationIDs returns the ids of the locations the batch registers or
// removes: the store loads those it holds before calling Keys.
func (b *Batch) LocationIDs() []string {
	var ids []string
	for _, o := range b.ops {
		switch {
		case o.reg != nil:
			ids = append(ids, o.reg.ID)
		case o.unreg != nil:
			ids = append(ids, o.unreg.ID)
		}
	}
	return dedupe(ids)
}

// Keys returns the keys whose heads Fold needs, given the stored locations
// (id to entity key) among LocationIDs.
func (b *Batch) Keys(locs map[string]string) []string {
	var keys []string
	for _, o := range b.ops {
		switch {
		case o.ent != nil:
			keys = append(keys, o.ent.Ref().Key())
		case o.remove != nil:
			keys = append(keys, strings.ToLower(o.remove.Ref))
		case o.unreg != nil:
			if k, ok := locs[o.unreg.ID]; ok {
				keys = append(keys, k)
			}
		}
	}
	return dedupe(keys)
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// folder is one Fold's state.
type folder struct {
	heads  map[string]Head
	stored map[string]bool // keys whose head the store holds
	newIdx map[string]int  // key -> index in ch.New of its last version made by the batch
	locs   map[string]string
	ch     Change
	digest string // of the event being folded
	rows   bool   // fill ch.Rows
	err    error  // the first error computing rows
}

// Fold applies the batch to the stored heads of Keys (heads) and the stored
// locations of LocationIDs (locs, id to entity key), and returns the rows to
// write. It does not change its arguments.
func (b *Batch) Fold(heads map[string]Head, locs map[string]string) (Change, error) {
	f := &folder{heads: make(map[string]Head, len(heads)), stored: make(map[string]bool, len(heads)),
		newIdx: map[string]int{}, locs: make(map[string]string, len(locs)), ch: Change{Last: event.Positions{}}, rows: b.rows}
	for k, h := range heads {
		f.heads[k] = h
		f.stored[k] = true
	}
	for id, k := range locs {
		f.locs[id] = k
	}
	locTouched := map[string]bool{}
	for _, o := range b.ops {
		ev := o.ev
		f.digest = event.Digest(ev)
		f.ch.Digests = append(f.ch.Digests, EventDigest{EventID: ev.ID, Pos: Pos{ev.Partition, ev.Position}, Type: ev.Type, Subject: ev.Subject, Digest: f.digest})
		f.ch.Last[ev.Partition] = ev.Position
		switch {
		case o.upsert != nil:
			d := o.upsert
			commit := d.Commit
			if commit == nil && ev.Commit != "" {
				commit = &event.Commit{SHA: ev.Commit}
			}
			f.upsert(o, d.UID, d.Hash, d.Entity, d.LocationID, d.ManagedBy, commit)
		case o.remove != nil:
			f.removeEntity(ev, strings.ToLower(o.remove.Ref), o.remove.UID, o.remove.LocationID)
		case o.reg != nil:
			if _, ok := f.locs[o.reg.ID]; ok {
				continue
			}
			_, managedBy, err := catalogstore.LocationEntity(*o.reg)
			if err != nil {
				return Change{}, err
			}
			f.locs[o.reg.ID] = o.ent.Ref().Key()
			locTouched[o.reg.ID] = true
			f.upsert(o, o.reg.ID, o.ent.Hash(), o.ent.JSON(), "", managedBy, nil)
		case o.unreg != nil:
			key, ok := f.locs[o.unreg.ID]
			if !ok {
				continue
			}
			delete(f.locs, o.unreg.ID)
			locTouched[o.unreg.ID] = true
			f.removeEntity(ev, key, o.unreg.ID, o.unreg.ID)
		}
	}
	ids := make([]string, 0, len(locTouched))
	for id := range locTouched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if f.err != nil {
		return Change{}, f.err
	}
	for _, id := range ids {
		if _, ok := locs[id]; ok {
			f.ch.DeleteLocations = append(f.ch.DeleteLocations, id)
		}
		if k, ok := f.locs[id]; ok {
			f.ch.PutLocations = append(f.ch.PutLocations, Location{ID: id, Key: k})
		}
	}
	return f.ch, nil
}

func (f *folder) upsert(o op, uid, hash string, body []byte, locationID, managedBy string, commit *event.Commit) {
	key := o.ent.Ref().Key()
	if h, ok := f.heads[key]; ok && !h.Removed && h.Hash == hash && h.UID == uid {
		return // the same body again: no new version
	}
	var rows catalogstore.EntityRows
	if f.rows {
		var err error
		if rows, err = catalogstore.NewEntityRows(o.ent, uid, hash); err != nil && f.err == nil {
			f.err = fmt.Errorf("history: event %s: catalog rows of %s: %w", o.ev.ID, key, err)
		}
	}
	f.add(o.ev, Version{Key: key, Ref: o.ent.Ref().String(), UID: uid, Body: json.RawMessage(body), Hash: hash,
		LocationID: locationID, ManagedBy: managedBy, Commit: commit}, rows)
}

func (f *folder) removeEntity(ev *event.Envelope, key, uid, locationID string) {
	h, ok := f.heads[key]
	if !ok || h.Removed {
		return
	}
	if uid != "" && h.UID != uid {
		return // the entity was recreated since; this removal is stale
	}
	f.add(ev, Version{Key: key, Ref: h.Ref, UID: h.UID, Removed: true, LocationID: locationID}, catalogstore.EntityRows{})
}

// add makes v the key's new head, closing the one before.
func (f *folder) add(ev *event.Envelope, v Version, rows catalogstore.EntityRows) {
	at := Mark{Pos: Pos{ev.Partition, ev.Position}, Time: ev.Time.UTC()}
	v.Number = 1
	if h, ok := f.heads[v.Key]; ok {
		v.Number = h.Number + 1
		if at.Time.Before(h.From.Time) {
			at.Time = h.From.Time // a clock went back: versions of a key never overlap
		}
		to := at
		if i, ok := f.newIdx[v.Key]; ok {
			f.ch.New[i].ValidTo = &to
		} else if f.stored[v.Key] {
			f.ch.Closed = append(f.ch.Closed, Closing{Key: v.Key, Number: h.Number, To: to})
		}
	}
	v.ValidFrom = at
	v.EventID, v.EventType = ev.ID, ev.Type
	v.Actor, v.CorrelationID = ev.Actor, ev.CorrelationID
	v.Digest = f.digest
	f.ch.New = append(f.ch.New, v)
	if f.rows {
		f.ch.Rows = append(f.ch.Rows, rows)
	}
	f.newIdx[v.Key] = len(f.ch.New) - 1
	f.heads[v.Key] = HeadOf(&v)
}
