package audit

import (
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
// A Replay is not safe for concurrent use.
type Replay struct {
	ents   map[string]*replayEntity
	locs   map[string]string                  // registered location id → its Location entity's key
	errs   map[string][]event.ProcessingError // location id → its processing errors
	events int64
}

// replayEntity is the version of an entity the events so far leave.
type replayEntity struct {
	uid, hash string
	// data is the upsert's data, decoded at the end; up is set instead when
	// the event had to be decoded whole (an older version of the type).
	data json.RawMessage
	up   *event.EntityUpserted
	// gen is the Location entity of a registered location.
	gen *catalog.Entity
	// ev names the event that wrote the version, for errors.
	ev string
}

// NewReplay returns an empty Replay.
func NewReplay() *Replay {
	return &Replay{ents: map[string]*replayEntity{}, locs: map[string]string{}, errs: map[string][]event.ProcessingError{}}
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
			e.uid, e.hash, _, ok = upsertFields(ev.Data)
			e.data = ev.Data
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

// decoded is one entity version the replay leaves, decoded.
type decoded struct {
	key  string
	uid  string
	ent  *catalog.Entity
	body []byte // the stored body: without relations and status, with uid and etag
	rels []catalog.Relation
}

// decodeAll decodes every version the replay leaves, on every core, sorted
// by key.
func (r *Replay) decodeAll(ctx context.Context) ([]decoded, error) {
	keys := make([]string, 0, len(r.ents))
	for k := range r.ents {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]decoded, len(keys))
	errs := make([]error, len(keys))
	each(ctx, len(keys), func(i int) {
		out[i], errs[i] = r.decode(keys[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("entity %s (event %s): %w", keys[i], r.ents[keys[i]].ev, err)
		}
	}
	return out, nil
}

func (r *Replay) decode(key string) (decoded, error) {
	e := r.ents[key]
	d := decoded{key: key, uid: e.uid, ent: e.gen}
	if d.ent == nil {
		raw, err := e.entityJSON()
		if err != nil {
			return d, err
		}
		body, err := catalog.DecodeJSONObject(raw)
		if err != nil {
			return d, fmt.Errorf("entity body: %w", err)
		}
		if d.ent, err = catalog.LoadEntity(body); err != nil {
			return d, err
		}
		if k := d.ent.Ref().Key(); k != key {
			return d, fmt.Errorf("the event's subject is %s but its entity is %s", key, k)
		}
	}
	var err error
	if d.body, err = storedBody(d.ent, e.uid, e.hash); err != nil {
		return d, err
	}
	d.rels = d.ent.Relations()
	return d, nil
}

// entityJSON returns the upserted entity's body.
func (e *replayEntity) entityJSON() ([]byte, error) {
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

// storedBody is the body the catalog read model stores for an entity
// version: without relations and status, with metadata.uid and
// metadata.etag (catalogstore.NewEntityRows' Body).
func storedBody(ent *catalog.Entity, uid, hash string) ([]byte, error) {
	stored := make(map[string]any, len(ent.Body()))
	for k, v := range ent.Body() {
		if k == "relations" || k == "status" {
			continue
		}
		stored[k] = v
	}
	md, _ := stored["metadata"].(map[string]any)
	nmd := make(map[string]any, len(md)+2)
	for k, v := range md {
		nmd[k] = v
	}
	nmd["uid"] = uid
	nmd["etag"] = catalog.HashJSON([]byte(hash + uid))[:32]
	stored["metadata"] = nmd
	return catalog.EncodeJSON(stored)
}

// relation is one relation row: its type, target key and target ref.
type relation struct {
	typ, target, targetRef string
}

// Entities returns the catalog the replay leaves, sorted by key, each entity
// as the catalog read model answers for it: its stored body, the relations
// whose source it is (declared by it or by any other entity, sorted and
// without duplicates) and the status items of the processing errors that
// concern it. It fails naming the entity and event of a body that does not
// decode.
func (r *Replay) Entities(ctx context.Context) ([]catalogstore.EntityView, error) {
	ds, err := r.decodeAll(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]catalogstore.EntityView, len(ds))
	bySource := r.relations(ds)
	status := r.status()
	each(ctx, len(ds), func(i int) { views[i] = view(&ds[i], bySource[ds[i].key], status[ds[i].key]) })
	return views, ctx.Err()
}

// relations gathers the relation rows by source: each entity's rows without
// its duplicates (the first of each source, type and target wins), then the
// rows of one source without duplicates of type and target ref, sorted by
// type and target as the read model reads them.
func (r *Replay) relations(ds []decoded) map[string][]relation {
	bySource := map[string][]relation{}
	type id struct{ source, typ, target string }
	seen := map[id]bool{}
	for i := range ds {
		clear(seen)
		for _, rel := range ds[i].rels {
			src := rel.Source.Key()
			k := id{src, rel.Type, rel.Target.Key()}
			if seen[k] {
				continue
			}
			seen[k] = true
			bySource[src] = append(bySource[src], relation{typ: rel.Type, target: k.target, targetRef: rel.Target.String()})
		}
	}
	for src, rows := range bySource {
		slices.SortFunc(rows, func(a, b relation) int {
			if c := strings.Compare(a.typ, b.typ); c != 0 {
				return c
			}
			if c := strings.Compare(a.target, b.target); c != 0 {
				return c
			}
			return strings.Compare(a.targetRef, b.targetRef)
		})
		bySource[src] = slices.CompactFunc(rows, func(a, b relation) bool { return a.typ == b.typ && a.targetRef == b.targetRef })
	}
	return bySource
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

// view renders one entity as the read model answers for it.
func view(d *decoded, rels []relation, errs []event.ProcessingError) catalogstore.EntityView {
	v := catalogstore.EntityView{Key: d.key, Ref: d.ent.Ref().String(), UID: d.uid, Body: d.body}
	for _, rel := range rels {
		v.Relations = append(v.Relations, catalogstore.Relation{Type: rel.typ, TargetRef: rel.targetRef})
	}
	for _, pe := range errs {
		v.Status = append(v.Status, catalogstore.StatusItemOf(pe))
	}
	catalogstore.NormalizeRelations(&v)
	return v
}

// WriteYAML writes the catalog the replay leaves under dir, one file per
// entity at KIND/NAMESPACE/NAME.yaml (the parts of its key): the entity as
// the catalog API answers for it, in YAML. The files are written on every
// core; it returns how many it wrote, and fails on the first entity it cannot
// decode or write, naming it.
func (r *Replay) WriteYAML(ctx context.Context, dir string) (int, error) {
	views, err := r.Entities(ctx)
	if err != nil {
		return 0, err
	}
	folders := map[string]bool{}
	for _, v := range views {
		folders[filepath.Dir(yamlPath(dir, v.Key))] = true
	}
	for f := range folders {
		if err := os.MkdirAll(f, 0o755); err != nil {
			return 0, err
		}
	}
	errs := make([]error, len(views))
	var written atomic.Int64
	each(ctx, len(views), func(i int) {
		if errs[i] = writeEntityYAML(yamlPath(dir, views[i].Key), views[i]); errs[i] == nil {
			written.Add(1)
		}
	})
	if err := ctx.Err(); err != nil {
		return int(written.Load()), err
	}
	for i, err := range errs {
		if err != nil {
			return int(written.Load()), fmt.Errorf("entity %s: %w", views[i].Key, err)
		}
	}
	return len(views), nil
}

// yamlPath is the file of the entity with key under dir.
func yamlPath(dir, key string) string {
	kind, rest, _ := strings.Cut(key, ":")
	ns, name, _ := strings.Cut(rest, "/")
	return filepath.Join(dir, kind, ns, name+".yaml")
}

// writeEntityYAML writes v as the API's JSON turned into YAML: decoded into
// plain values, so maps come out with sorted keys and numbers as float64
// values do.
func writeEntityYAML(path string, v catalogstore.EntityView) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// each calls fn(i) for i in [0, n) on every core, in chunks, and stops
// handing out work once ctx is done.
func each(ctx context.Context, n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	const chunk = 64
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
