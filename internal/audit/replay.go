package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
// once they pass DefaultHoldLimit, so its memory grows with the number of
// entities (about 200 bytes each) and that limit, not with their size.
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
	// held is how many bytes of event data the bodies held in memory keep,
	// at most holdLimit before they are spilled.
	held, holdLimit int64
	// spillMap maps the spill file's first len(spillMap) bytes, once the
	// fold is done (see keys), when the system can.
	spillMap []byte
	// yamlV3Only makes WriteYAML render every file with yaml.v3 (tests).
	yamlV3Only bool
	// sorted holds the entities in the order of the keys keys answered
	// last, each knowing its place (idx).
	sorted []*replayEntity
}

// replayEntity is the version of an entity the events so far leave.
type replayEntity struct {
	uid, hash string
	// data is the upsert's data, decoded at the end; up is set instead when
	// the event had to be decoded whole (an older version of the type); n
	// bytes at off in the spill file are the entity body instead, when n > 0,
	// or body, held in memory, which keeps held bytes of event data.
	data json.RawMessage
	up   *event.EntityUpserted
	off  int64
	n    int
	body []byte
	held int
	// gen is the Location entity of a registered location.
	gen *catalog.Entity
	// ev names the event that wrote the version, for errors.
	ev string
	// idx is the entity's index among the keys sorted (see keys).
	idx int32
}

// NewReplay returns an empty Replay.
func NewReplay() *Replay {
	return &Replay{ents: map[string]*replayEntity{}, locs: map[string]string{}, errs: map[string][]event.ProcessingError{}}
}

// DefaultHoldLimit is how many bytes of event data a Replay made by
// NewSpillingReplay holds in memory for the bodies of the versions left
// before it writes them to its file: up to it, a body superseded before the
// end is never written, and none is read back through the file.
const DefaultHoldLimit = 256 << 20

// NewSpillingReplay returns an empty Replay that keeps the bodies it needs
// in memory up to DefaultHoldLimit, and beyond in a new file in dir ("" is
// the system's temporary folder). Close removes the file.
func NewSpillingReplay(dir string) (*Replay, error) {
	f, err := os.CreateTemp(dir, "backlot-replay-*.bodies")
	if err != nil {
		return nil, err
	}
	r := NewReplay()
	r.spill, r.spillW, r.holdLimit = f, bufio.NewWriterSize(f, 1<<20), DefaultHoldLimit
	return r, nil
}

// Close removes the spill file of a Replay made by NewSpillingReplay; the
// Replay cannot be read after. It does nothing for one made by NewReplay.
func (r *Replay) Close() error {
	if r.spill == nil {
		return nil
	}
	var err error
	if r.spillMap != nil {
		err = unmapSpill(r.spillMap)
		r.spillMap = nil
	}
	if cerr := r.spill.Close(); err == nil {
		err = cerr
	}
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
// caller must not change it. It keeps no event itself, nor the slice: a
// reader may hand over the same slice again (sqlitelog.StreamOptions.Reuse).
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

// foldedTypes are the types apply folds (as their newest version); it counts
// and skips the others.
var foldedTypes = []event.Type{event.TypeEntityUpserted, event.TypeEntityRemoved,
	event.TypeLocationRegistered, event.TypeLocationRemoved,
	event.TypeProcessingErrorRecorded, event.TypeProcessingErrorCleared}

// skippedTypes are the types Backlot writes that the catalog does not fold.
var skippedTypes = []string{
	string(event.TypeFactsReported), string(event.TypeFactSourceDeclared),
	string(event.TypeBadgeAwarded), string(event.TypeBadgeRevoked), string(event.TypeCheckChanged),
	string(event.TypeTaskStarted), string(event.TypeTaskFinished),
	string(event.TypeMigrationChanged), string(event.TypeMigrationTargetChanged),
	string(event.TypePermissionDenied),
}

// SkippedTypes lists the event types Backlot writes whose events Apply
// counts without reading them (the catalog does not fold them): a reader
// of the log may hand them over without their data
// (sqlitelog.StreamOptions.SkipData), which on a catalog with badges and
// facts is half the log's bytes.
func SkippedTypes() []string { return slices.Clone(skippedTypes) }

func (r *Replay) apply(ev *event.Envelope) error {
	switch event.Type(ev.Type).Latest() {
	case event.TypeEntityUpserted:
		e := &replayEntity{ev: ev.ID}
		var ok bool
		var body []byte
		if event.Type(ev.Type) == event.TypeEntityUpserted {
			e.uid, e.hash, body, ok = upsertFields(ev.Data)
			if !ok || r.spill == nil || len(body) == 0 {
				e.data, body = ev.Data, nil
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
		old := r.ents[ev.Subject]
		if old != nil && old.hash == e.hash && old.uid == e.uid {
			return nil // the same body again: nothing changes
		}
		r.release(old)
		if body != nil {
			// Held in memory (the event's data is kept whole) until the
			// bodies held pass the limit, then spilled with the others.
			e.body, e.held = body, len(ev.Data)
			r.held += int64(e.held)
		}
		r.ents[ev.Subject] = e
		if r.held > r.holdLimit {
			if err := r.spillHeld(); err != nil {
				return err
			}
		}
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
	r.release(e)
	delete(r.ents, key)
}

// release counts the body of a version no longer left (nil: none) as no
// longer held.
func (r *Replay) release(e *replayEntity) {
	if e != nil && e.body != nil {
		r.held -= int64(e.held)
	}
}

// spillHeld writes every body held in memory to the spill file and lets
// them go.
func (r *Replay) spillHeld() error {
	for _, e := range r.ents {
		if e.body == nil {
			continue
		}
		if _, err := r.spillW.Write(e.body); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		e.off, e.n = r.spillAt, len(e.body)
		r.spillAt += int64(e.n)
		e.body, e.held = nil, 0
	}
	r.held = 0
	return nil
}

// keys returns the keys of the entities the replay leaves, sorted, once the
// spilled bodies can be read (mapped into memory when the system can), and
// numbers the entities in that order (sorted, idx).
func (r *Replay) keys() ([]string, error) {
	if r.spillW != nil {
		if err := r.spillW.Flush(); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		if int64(len(r.spillMap)) != r.spillAt && r.spillAt > 0 {
			if r.spillMap != nil {
				if err := unmapSpill(r.spillMap); err != nil {
					return nil, fmt.Errorf("spill: %w", err)
				}
				r.spillMap = nil
			}
			if m, err := mapSpill(r.spill, r.spillAt); err == nil {
				r.spillMap = m
			}
		}
	}
	keys := make([]string, 0, len(r.ents))
	for k := range r.ents {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.sorted = make([]*replayEntity, len(keys))
	for i, k := range keys {
		e := r.ents[k]
		e.idx = int32(i)
		r.sorted[i] = e
	}
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
	if e.body != nil {
		return e.body, nil
	}
	if e.n > 0 && e.off+int64(e.n) <= int64(len(r.spillMap)) {
		return r.spillMap[e.off : e.off+int64(e.n) : e.off+int64(e.n)], nil
	}
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
	rels, err := r.relations(ctx, keys)
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
		v.Relations = slices.Clone(rels.of(i))
		for _, pe := range status[k] {
			v.Status = append(v.Status, catalogstore.StatusItemOf(pe))
		}
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

// WriteYAML writes the catalog the replay leaves under dir, one file per
// entity at KIND/NAMESPACE/NAME.yaml (the parts of its key): the entity as
// the catalog API answers for it (see Entities), in YAML, byte for byte as
// yaml.v3 writes it. It decodes every body once, on every core, gathering the
// relations every entity adds to others and writing its stored body's YAML
// (kept in the spill file of a spilling Replay); each file is then that YAML
// with its relations and status put in, written by one goroutine in key
// order (one creator: see renderedFile). A file that already holds the same bytes is left
// alone, so replaying into a folder written before rewrites only what
// changed. It returns how many files it wrote or found the same, and fails
// on the first entity it cannot decode or write, naming it and its event.
func (r *Replay) WriteYAML(ctx context.Context, dir string) (int, error) {
	st, err := r.writeYAML(ctx, dir)
	return st.Files, err
}

// WriteStats counts what WriteYAML did.
type WriteStats struct {
	// Files is the number of entity files written or found the same.
	Files int
	// Unchanged is how many of them already held the same bytes.
	Unchanged int
	// Slow is how many were rendered by yaml.v3 (a string of several lines,
	// processing errors, a key the fast writer does not follow).
	Slow int
}

// WriteYAMLStats is WriteYAML, answering what it did.
func (r *Replay) WriteYAMLStats(ctx context.Context, dir string) (WriteStats, error) {
	return r.writeYAML(ctx, dir)
}

// Files are created by one goroutine. Creating a file takes its folder's
// lock in the kernel, and nearly every entity of a catalog is in one folder
// (component/default): on the 2-core machine two or more creators spent 2-10
// times the system CPU per file of one, which alone keeps up with the
// rendering on the other core.

// renderedFile is one entity's file, rendered.
type renderedFile struct {
	i   int
	b   []byte
	err error
}

func (r *Replay) writeYAML(ctx context.Context, dir string) (WriteStats, error) {
	var st WriteStats
	// fresh folders hold no file to compare with.
	fresh := map[string]bool{}
	var scratch []byte
	slow, err := r.render(ctx, func(keys []string) error {
		for _, k := range keys {
			f := filepath.Dir(yamlPath(dir, k))
			if _, seen := fresh[f]; seen {
				continue
			}
			_, statErr := os.Stat(f)
			fresh[f] = os.IsNotExist(statErr)
			if err := os.MkdirAll(f, 0o755); err != nil {
				return err
			}
		}
		return nil
	}, func(key string, b []byte) error {
		path := yamlPath(dir, key)
		same, err := writeIfChanged(path, b, !fresh[filepath.Dir(path)], &scratch)
		if err != nil {
			return err
		}
		st.Files++
		if same {
			st.Unchanged++
		}
		return nil
	})
	st.Slow = slow
	return st, err
}

// WriteTar writes the files WriteYAML would write into a tar archive on w
// instead of a folder: the same paths (KIND/NAMESPACE/NAME.yaml) and bytes,
// in key order, each dated modTime, so that two replays of one log to one
// instant give the same archive byte for byte. It makes no file, so it is
// not bound by the kernel's cost of creating one per entity: the archive of
// a catalog is written at the speed of its rendering. Stats count every
// file as written (Unchanged is zero).
func (r *Replay) WriteTar(ctx context.Context, w io.Writer, modTime time.Time) (WriteStats, error) {
	var st WriteStats
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := newTarFiles(bw, modTime.UTC().Truncate(time.Second))
	slow, err := r.render(ctx, nil, func(key string, b []byte) error {
		if err := tw.file(filepath.ToSlash(yamlPath("", key)), b); err != nil {
			return err
		}
		st.Files++
		return nil
	})
	st.Slow = slow
	if err != nil {
		return st, err
	}
	if err := tw.close(); err != nil {
		return st, err
	}
	return st, bw.Flush()
}

// render renders every entity's file and calls emit with each, by one
// goroutine in key order; before, prepare (when set) sees every key. It
// reads every body twice, on every core: once for the relations it declares
// (to gather the relations every entity adds to others), then to write its
// file, straight from its JSON (see jsonTree) when it can. It returns how
// many files yaml.v3 rendered, and fails on the first entity it cannot
// decode or emit, naming it and its event.
func (r *Replay) render(ctx context.Context, prepare func(keys []string) error, emit func(key string, b []byte) error) (int, error) {
	keys, err := r.keys()
	if err != nil {
		return 0, err
	}
	rels, err := r.relations(ctx, keys)
	if err != nil {
		return 0, err
	}
	status := r.status()
	if prepare != nil {
		if err := prepare(keys); err != nil {
			return 0, err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Rendered on every core, in chunks handed out in key order; emitted in
	// key order by one goroutine (see renderedFile).
	const chunk = 64
	type part struct {
		lo    int
		files []renderedFile
		buf   []byte // holds the files' bytes
		done  chan struct{}
	}
	parts := make(chan *part, 4*runtime.GOMAXPROCS(0))
	work := make(chan *part, 4*runtime.GOMAXPROCS(0))
	// The buffers of parts emitted, for parts to come.
	bufs := make(chan []byte, 16*runtime.GOMAXPROCS(0))
	var slow atomic.Int64
	go func() {
		defer close(parts)
		defer close(work)
		for lo := 0; lo < len(keys); lo += chunk {
			p := &part{lo: lo, done: make(chan struct{})}
			select {
			case work <- p:
			case <-ctx.Done():
				return
			}
			select {
			case parts <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	var renderers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		renderers.Go(func() {
			var w relationWorker
			for p := range work {
				hi := min(p.lo+chunk, len(keys))
				p.files = make([]renderedFile, 0, hi-p.lo)
				// The chunk's files share one buffer.
				var out []byte
				select {
				case out = <-bufs:
				default:
					out = make([]byte, 0, (hi-p.lo)*2048)
				}
				for i := p.lo; i < hi; i++ {
					k := keys[i]
					f := renderedFile{i: i}
					start := len(out)
					var isSlow bool
					out, isSlow, f.err = r.renderFile(&w, out, k, r.sorted[i], rels.of(i), status[k])
					if isSlow {
						slow.Add(1)
					}
					f.b = out[start:len(out):len(out)]
					p.files = append(p.files, f)
				}
				p.buf = out
				close(p.done)
			}
		})
	}
	var firstErr error
	fail := func(i int, err error) {
		if firstErr == nil {
			firstErr = r.entityError(keys[i], err)
			cancel()
		}
	}
	for p := range parts {
		select {
		case <-p.done:
		case <-ctx.Done():
		}
		if firstErr != nil || ctx.Err() != nil {
			continue
		}
		for _, f := range p.files {
			if f.err != nil {
				fail(f.i, f.err)
				break
			}
			if err := emit(keys[f.i], f.b); err != nil {
				fail(f.i, err)
				break
			}
		}
		select {
		case bufs <- p.buf[:0]:
		default:
		}
	}
	renderers.Wait()
	if firstErr != nil {
		return int(slow.Load()), firstErr
	}
	return int(slow.Load()), ctx.Err()
}

// renderFile appends the file of the entity with key (its version e) to buf: its stored
// body with its relations (and status) put in, written from its body's JSON
// when it can, else from its decoded stored body, else by yaml.v3 (a
// processing error's status items, what the own writer does not follow).
// It reports slow when yaml.v3 rendered it.
func (r *Replay) renderFile(w *relationWorker, buf []byte, key string, e *replayEntity, rels []catalogstore.Relation, errs []event.ProcessingError) ([]byte, bool, error) {
	start := len(buf)
	if len(errs) > 0 || r.yamlV3Only {
		out, err := r.marshalYAML(key, rels, errs)
		return append(buf, out...), true, err
	}
	if e.gen == nil {
		body, err := r.bodyOf(&w.body, e)
		if err != nil {
			return buf, false, err
		}
		if w.tree.parse(body) {
			if ref, md, ns, ok := treeRef(&w.tree); ok && ref.Key() == key {
				yw := yamlWriter{buf: buf}
				if yw.treeFile(&w.tree, md, storedFields{namespace: ns, uid: e.uid, etag: catalogstore.ETag(e.hash, e.uid)}, rels) {
					return yw.buf, false, nil
				}
			}
		}
	}
	ent, err := r.entity(key)
	if err != nil {
		return buf, false, err
	}
	yw := yamlWriter{buf: buf}
	if yw.mapFile(catalogstore.StoredBody(ent, e.uid, e.hash), rels) {
		return yw.buf, false, nil
	}
	out, err := r.marshalYAML(key, rels, errs)
	return append(buf[:start], out...), true, err
}

// mapFile writes a stored body's entries, in yaml.v3's order, with a
// "relations" entry among them.
func (w *yamlWriter) mapFile(doc map[string]any, rels []catalogstore.Relation) bool {
	relDone := false
	for _, k := range sortedKeys(doc) {
		if !relDone && keyLess("relations", k) {
			if !w.relationsEntry(rels) {
				return false
			}
			relDone = true
		}
		if !w.entry(k, doc[k], 0) {
			return false
		}
	}
	if !relDone {
		return w.relationsEntry(rels)
	}
	return true
}

// bodyOf returns the body of the version e: a view of the mapped spill
// file, or read from it into *scratch (grown as needed), or the event's.
func (r *Replay) bodyOf(scratch *[]byte, e *replayEntity) ([]byte, error) {
	if e.body != nil {
		return e.body, nil
	}
	if e.n > 0 && e.off+int64(e.n) <= int64(len(r.spillMap)) {
		return r.spillMap[e.off : e.off+int64(e.n) : e.off+int64(e.n)], nil
	}
	if e.n > 0 {
		*scratch = slices.Grow((*scratch)[:0], e.n)[:e.n]
		if _, err := r.spill.ReadAt(*scratch, e.off); err != nil {
			return nil, fmt.Errorf("spill: %w", err)
		}
		return *scratch, nil
	}
	return r.entityJSON(e)
}

// writeIfChanged writes b to the file at path, unless it may exist (maybe)
// and holds b already; it reports whether it found it the same. scratch is
// the caller's buffer for reading.
func writeIfChanged(path string, b []byte, maybe bool, scratch *[]byte) (bool, error) {
	if maybe {
		if cap(*scratch) < len(b)+1 {
			*scratch = make([]byte, len(b)+1)
		}
		if n, ok := readFile(path, (*scratch)[:len(b)+1]); ok && n == len(b) && bytes.Equal((*scratch)[:n], b) {
			return true, nil
		}
	}
	return false, writeFile(path, b)
}

// yamlPath is the file of the entity with key under dir.
func yamlPath(dir, key string) string {
	kind, rest, _ := strings.Cut(key, ":")
	ns, name, _ := strings.Cut(rest, "/")
	return filepath.Join(dir, kind, ns, name+".yaml")
}

// marshalYAML renders the entity with key with yaml.v3, as the YAML of the
// API's JSON: the document is the plain values that JSON decodes into (maps,
// slices, strings, float64 numbers, booleans), which the stored body already
// is, so it is built without encoding and decoding the JSON; only status
// items, which are typed, go through JSON.
func (r *Replay) marshalYAML(key string, rels []catalogstore.Relation, errs []event.ProcessingError) ([]byte, error) {
	ent, err := r.entity(key)
	if err != nil {
		return nil, err
	}
	e := r.ents[key]
	doc := catalogstore.StoredBody(ent, e.uid, e.hash)
	rs := make([]any, len(rels))
	for i, rel := range rels {
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
			return nil, err
		}
		var st any
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, err
		}
		doc["status"] = st
	}
	return yaml.Marshal(doc)
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
