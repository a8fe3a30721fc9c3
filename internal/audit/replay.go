package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// Replay folds events, read in log order, into the catalog they leave: the
// latest version of each entity, the registered locations and their
// processing errors. It keeps no read model: an entity is a map entry (the
// last upsert wins, a removal deletes it), an upsert is read only as far as
// its uid and hash (to choose), and its body stays raw bytes until Entities or
// WriteYAML decodes the versions that are left, on every core. What it
// writes is what the catalog read model (package catalogstore's fold and
// views) answers after the same events, byte for byte.
//
// A Replay made by NewSpillingReplay writes the bodies it keeps to a file
// instead of holding them, so its memory grows with the number of entities
// alone (about 200 bytes each), not with their size.
//
// A Replay is not safe for concurrent use.
type Replay struct {
	ents   map[string]*replayEntity
	locs   map[string]string                  // registered location id → its Location entity's key
	errs   map[string][]event.ProcessingError // location id → its processing errors
	events int64
	// spill, when set, holds the upserted bodies, appended through spillW;
	// spillAt is its length.
	spill   *os.File
	spillW  *bufio.Writer
	spillAt int64
}

// replayEntity is the version of an entity the events so far leave.
type replayEntity struct {
	uid, hash string
	// data is the upsert's data, decoded at the end; up is set instead when
	// the event had to be decoded whole (an older version of the type); n
	// bytes at off in the spill file are the entity body instead, when n > 0.
	data json.RawMessage
	up   *event.EntityUpserted
	off  int64
	n    int
	// gen is the Location entity of a registered location.
	gen *catalog.Entity
	// ev names the event that wrote the version, for errors.
	ev string
}

// NewReplay returns an empty Replay.
func NewReplay() *Replay {
	return &Replay{ents: map[string]*replayEntity{}, locs: map[string]string{}, errs: map[string][]event.ProcessingError{}}
}

// NewSpillingReplay returns an empty Replay that keeps the bodies it needs
// in a new file in dir ("" is the system's temporary folder) instead of in
// memory. Close removes the file.
func NewSpillingReplay(dir string) (*Replay, error) {
	f, err := os.CreateTemp(dir, "backlot-replay-*.bodies")
	if err != nil {
		return nil, err
	}
	r := NewReplay()
	r.spill, r.spillW = f, bufio.NewWriterSize(f, 1<<20)
	return r, nil
}

// Close removes the spill file of a Replay made by NewSpillingReplay; the
// Replay cannot be read after. It does nothing for one made by NewReplay.
func (r *Replay) Close() error {
	if r.spill == nil {
		return nil
	}
	err := r.spill.Close()
	if rmErr := os.Remove(r.spill.Name()); err == nil {
		err = rmErr
	}
	r.spill = nil
	return err
}

// Events is the number of events applied.
func (r *Replay) Events() int64 { return r.events }

// Len is the number of entities the events so far leave.
func (r *Replay) Len() int { return len(r.ents) }

// Apply folds events, which follow those applied before in log order, as
// the catalog read model would: an upsert of the body and uid an entity
// already has changes nothing, a removal of an entity recreated since (another
// uid) is stale, a location registered twice keeps the first. Types the
// catalog does not fold are counted and skipped. It fails on an event whose
// data does not decode, naming it. The events' data is kept, not copied: the
// caller must not change it.
func (r *Replay) Apply(events []event.Envelope) error {
	for i := range events {
		if err := r.apply(&events[i]); err != nil {
			ev := &events[i]
			return fmt.Errorf("apply event %s (%s, subject %s): %w", ev.ID, ev.Type, ev.Subject, err)
		}
		r.events++
	}
	return nil
}

func (r *Replay) apply(ev *event.Envelope) error {
	switch event.Type(ev.Type).Latest() {
	case event.TypeEntityUpserted:
		e := &replayEntity{ev: ev.ID}
		var ok bool
		if event.Type(ev.Type) == event.TypeEntityUpserted {
			var body []byte
			e.uid, e.hash, body, ok = upsertFields(ev.Data)
			if ok && r.spill != nil && len(body) > 0 {
				if _, err := r.spillW.Write(body); err != nil {
					return fmt.Errorf("spill: %w", err)
				}
				e.off, e.n = r.spillAt, len(body)
				r.spillAt += int64(len(body))
			} else {
				e.data = ev.Data
			}
		}
		if !ok {
			var d event.EntityUpserted
			if err := ev.Decode(&d); err != nil {
				return err
			}
			e.uid, e.hash, e.data, e.up = d.UID, d.Hash, nil, &d
		}
		// The producer's subject is the entity's key; Entities checks it
		// against the body of every version that is left.
		if old := r.ents[ev.Subject]; old != nil && old.hash == e.hash && old.uid == e.uid {
			return nil // the same body again: nothing changes
		}
		r.ents[ev.Subject] = e
	case event.TypeEntityRemoved:
		var d event.EntityRemoved
		if err := ev.Decode(&d); err != nil {
			return err
		}
		r.remove(strings.ToLower(d.Ref), d.UID)
	case event.TypeLocationRegistered:
		var d event.LocationRegistered
		if err := ev.Decode(&d); err != nil {
			return err
		}
		if _, ok := r.locs[d.ID]; ok {
			return nil
		}
		ent, _, err := catalogstore.LocationEntity(d)
		if err != nil {
			return err
		}
		key := ent.Ref().Key()
		r.locs[d.ID] = key
		r.ents[key] = &replayEntity{uid: d.ID, hash: ent.Hash(), gen: ent, ev: ev.ID}
	case event.TypeLocationRemoved:
		var d event.LocationRemoved
		if err := ev.Decode(&d); err != nil {
			return err
		}
		key, ok := r.locs[d.ID]
		if !ok {
			return nil
		}
		delete(r.locs, d.ID)
		delete(r.errs, d.ID)
		r.remove(key, d.ID)
	case event.TypeProcessingErrorRecorded:
		var d event.ProcessingErrorRecorded
		if err := ev.Decode(&d); err != nil {
			return err
		}
		if len(d.Errors) == 0 {
			delete(r.errs, d.LocationID)
		} else {
			r.errs[d.LocationID] = d.Errors
		}
	case event.TypeProcessingErrorCleared:
		var d event.ProcessingErrorCleared
		if err := ev.Decode(&d); err != nil {
			return err
		}
		delete(r.errs, d.LocationID)
	}
	return nil
}

// remove deletes the entity with key unless it was recreated since (another
// uid than uid, when uid is set).
func (r *Replay) remove(key, uid string) {
	e := r.ents[key]
	if e == nil || uid != "" && e.uid != uid {
		return
	}
	delete(r.ents, key)
}

// keys returns the keys of the entities the replay leaves, sorted, once the
// spilled bodies can be read.
func (r *Replay) keys() ([]string, error) {
	if r.spillW != nil {
		if err := r.spillW.Flush(); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
	}
	keys := make([]string, 0, len(r.ents))
	for k := range r.ents {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// entity decodes the version of the entity with key the replay leaves.
func (r *Replay) entity(key string) (*catalog.Entity, error) {
	e := r.ents[key]
	if e.gen != nil {
		return e.gen, nil
	}
	raw, err := r.entityJSON(e)
	if err != nil {
		return nil, err
	}
	body, err := catalog.DecodeJSONObject(raw)
	if err != nil {
		return nil, fmt.Errorf("entity body: %w", err)
	}
	ent, err := catalog.LoadEntity(body)
	if err != nil {
		return nil, err
	}
	if k := ent.Ref().Key(); k != key {
		return nil, fmt.Errorf("the event's subject is %s but its entity is %s", key, k)
	}
	return ent, nil
}

// entityError names the entity and the event that wrote its version.
func (r *Replay) entityError(key string, err error) error {
	return fmt.Errorf("entity %s (event %s): %w", key, r.ents[key].ev, err)
}

// entityJSON returns the upserted entity's body.
func (r *Replay) entityJSON(e *replayEntity) ([]byte, error) {
	if e.n > 0 {
		b := make([]byte, e.n)
		if _, err := r.spill.ReadAt(b, e.off); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		return b, nil
	}
	if e.up != nil {
		return e.up.Entity, nil
	}
	if _, _, raw, ok := upsertFields(e.data); ok && raw != nil {
		return raw, nil
	}
	var d event.EntityUpserted
	if err := json.Unmarshal(e.data, &d); err != nil {
		return nil, err
	}
	return d.Entity, nil
}

// relation is one relation row: its type, target key and target ref.
type relation struct {
	typ, target, targetRef string
}

// Entities returns the catalog the replay leaves, sorted by key, each entity
// as the catalog read model answers for it: its stored body, the relations
// whose source it is (declared by it or by any other entity, sorted and
// without duplicates) and the status items of the processing errors that
// concern it. It holds every entity decoded at once; WriteYAML does not.
// It fails naming the entity and event of a body that does not decode.
func (r *Replay) Entities(ctx context.Context) ([]catalogstore.EntityView, error) {
	keys, err := r.keys()
	if err != nil {
		return nil, err
	}
	bySource, err := r.relations(ctx, keys)
	if err != nil {
		return nil, err
	}
	status := r.status()
	views := make([]catalogstore.EntityView, len(keys))
	errs := make([]error, len(keys))
	each(ctx, len(keys), 1, func(i int) {
		k := keys[i]
		ent, err := r.entity(k)
		if err != nil {
			errs[i] = err
			return
		}
		e := r.ents[k]
		v := catalogstore.EntityView{Key: k, Ref: ent.Ref().String(), UID: e.uid}
		if v.Body, errs[i] = catalog.EncodeJSON(catalogstore.StoredBody(ent, e.uid, e.hash)); errs[i] != nil {
			return
		}
		for _, rel := range bySource[k] {
			v.Relations = append(v.Relations, catalogstore.Relation{Type: rel.typ, TargetRef: rel.targetRef})
		}
		for _, pe := range status[k] {
			v.Status = append(v.Status, catalogstore.StatusItemOf(pe))
		}
		catalogstore.NormalizeRelations(&v)
		views[i] = v
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, r.entityError(keys[i], err)
		}
	}
	return views, nil
}

// relations decodes every entity of keys, on every core, and gathers the
// relation rows by source: each entity's rows without its duplicates (the
// first of each source, type and target wins), then the rows of one source
// without duplicates of type and target ref, sorted by type and target as
// the read model reads them.
func (r *Replay) relations(ctx context.Context, keys []string) (map[string][]relation, error) {
	type row struct {
		source string
		relation
	}
	// Decoded a chunk at a time on every core, merged with their strings
	// interned: the same targets and sources recur in many rows, and only
	// one chunk's rows are held at once.
	const chunk = 4096
	bySource := map[string][]relation{}
	strs := map[string]string{}
	intern := func(s string) string {
		if t, ok := strs[s]; ok {
			return t
		}
		strs[s] = s
		return s
	}
	rows := make([][]row, chunk)
	errs := make([]error, chunk)
	for lo := 0; lo < len(keys); lo += chunk {
		part := keys[lo:min(lo+chunk, len(keys))]
		each(ctx, len(part), 1, func(i int) {
			rows[i], errs[i] = nil, nil
			ent, err := r.entity(part[i])
			if err != nil {
				errs[i] = err
				return
			}
			rels := ent.Relations()
			out := make([]row, 0, len(rels))
		next:
			for _, rel := range rels {
				x := row{rel.Source.Key(), relation{typ: rel.Type, target: rel.Target.Key(), targetRef: rel.Target.String()}}
				for _, y := range out {
					if x.source == y.source && x.typ == y.typ && x.target == y.target {
						continue next
					}
				}
				out = append(out, x)
			}
			rows[i] = out
		})
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range part {
			if errs[i] != nil {
				return nil, r.entityError(part[i], errs[i])
			}
			for _, x := range rows[i] {
				src := intern(x.source)
				bySource[src] = append(bySource[src], relation{typ: intern(x.typ), target: intern(x.target), targetRef: intern(x.targetRef)})
			}
			rows[i] = nil
		}
	}
	for src, rs := range bySource {
		slices.SortFunc(rs, func(a, b relation) int {
			if c := strings.Compare(a.typ, b.typ); c != 0 {
				return c
			}
			if c := strings.Compare(a.target, b.target); c != 0 {
				return c
			}
			return strings.Compare(a.targetRef, b.targetRef)
		})
		bySource[src] = slices.CompactFunc(rs, func(a, b relation) bool { return a.typ == b.typ && a.targetRef == b.targetRef })
	}
	return bySource, nil
}

// status gathers the processing errors by the entity they are shown on, in
// the read model's order: first the errors that name the entity, by location
// id and place, then the errors of the location whose Location entity it is
// that name another entity or none.
func (r *Replay) status() map[string][]event.ProcessingError {
	ids := make([]string, 0, len(r.errs))
	for id := range r.errs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	named := map[string][]event.ProcessingError{}
	ofLocation := map[string][]event.ProcessingError{}
	for _, id := range ids {
		locKey, registered := r.locs[id]
		for _, pe := range r.errs[id] {
			k := catalogstore.ErrorEntityKey(pe)
			if k != "" {
				named[k] = append(named[k], pe)
			}
			if registered && k != locKey {
				ofLocation[locKey] = append(ofLocation[locKey], pe)
			}
		}
	}
	for k, pes := range ofLocation {
		named[k] = append(named[k], pes...)
	}
	return named
}

// yamlWriters is how many files WriteYAML writes at once per core: a file's
// creation waits on the file system more than it computes.
const yamlWriters = 4

// WriteYAML writes the catalog the replay leaves under dir, one file per
// entity at KIND/NAMESPACE/NAME.yaml (the parts of its key): the entity as
// the catalog API answers for it (see Entities), in YAML. It decodes every
// body twice, once for the relations every entity adds to others and once to
// write it, so only the files being written are held decoded. The files are
// written on every core; it returns how many it wrote, and fails on the first
// entity it cannot decode or write, naming it and its event.
func (r *Replay) WriteYAML(ctx context.Context, dir string) (int, error) {
	keys, err := r.keys()
	if err != nil {
		return 0, err
	}
	bySource, err := r.relations(ctx, keys)
	if err != nil {
		return 0, err
	}
	status := r.status()
	folders := map[string]bool{}
	for _, k := range keys {
		folders[filepath.Dir(yamlPath(dir, k))] = true
	}
	for f := range folders {
		if err := os.MkdirAll(f, 0o755); err != nil {
			return 0, err
		}
	}
	errs := make([]error, len(keys))
	var written atomic.Int64
	each(ctx, len(keys), yamlWriters, func(i int) {
		k := keys[i]
		if errs[i] = r.writeYAML(yamlPath(dir, k), k, bySource[k], status[k]); errs[i] == nil {
			written.Add(1)
		}
	})
	if err := ctx.Err(); err != nil {
		return int(written.Load()), err
	}
	for i, err := range errs {
		if err != nil {
			return int(written.Load()), r.entityError(keys[i], err)
		}
	}
	return len(keys), nil
}

// yamlPath is the file of the entity with key under dir.
func yamlPath(dir, key string) string {
	kind, rest, _ := strings.Cut(key, ":")
	ns, name, _ := strings.Cut(rest, "/")
	return filepath.Join(dir, kind, ns, name+".yaml")
}

// writeYAML writes the entity with key to path as the YAML of the API's
// JSON: the document is the plain values that JSON decodes into (maps,
// slices, strings, float64 numbers, booleans), which the stored body already
// is, so it is built without encoding and decoding the JSON; only status
// items, which are typed, go through JSON.
func (r *Replay) writeYAML(path, key string, rels []relation, errs []event.ProcessingError) error {
	ent, err := r.entity(key)
	if err != nil {
		return err
	}
	e := r.ents[key]
	doc := catalogstore.StoredBody(ent, e.uid, e.hash)
	v := catalogstore.EntityView{Key: key}
	for _, rel := range rels {
		v.Relations = append(v.Relations, catalogstore.Relation{Type: rel.typ, TargetRef: rel.targetRef})
	}
	catalogstore.NormalizeRelations(&v)
	rs := make([]any, len(v.Relations))
	for i, rel := range v.Relations {
		rs[i] = map[string]any{"type": rel.Type, "targetRef": rel.TargetRef}
	}
	doc["relations"] = rs
	if len(errs) > 0 {
		items := make([]catalogstore.StatusItem, len(errs))
		for i, pe := range errs {
			items[i] = catalogstore.StatusItemOf(pe)
		}
		raw, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			return err
		}
		var st any
		if err := json.Unmarshal(raw, &st); err != nil {
			return err
		}
		doc["status"] = st
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// each calls fn(i) for i in [0, n) from perCore goroutines per core, in
// chunks, and stops handing out work once ctx is done.
func each(ctx context.Context, n, perCore int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0)*perCore, n)
	const chunk = 16
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}
