package refresh

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"iter"
	"reflect"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// Location is a registered location as the decision needs it.
type Location struct {
	// ID is the location's identifier.
	ID string
	// Type is file or url.
	Type string
	// Target is the registered target.
	Target string
	// EntityRef is the ref of the location's generated Location entity, the
	// subject of its processing-error events.
	EntityRef string
}

// TypeTarget returns "type:target", the form of Backstage's location annotations.
func (l Location) TypeTarget() string { return l.Type + ":" + l.Target }

// Observed is one entity a location yields, with where it was read from.
type Observed struct {
	// Entity is the validated entity.
	Entity *catalog.Entity
	// ManagedBy is type:target of the file it was read from.
	ManagedBy string
	// Commit is set when the file came from git: the last commit that changed it.
	Commit *event.Commit
	// Head is, for a file from git, the commit the file was read at (its
	// branch's tip), which may be later than Commit; "" otherwise.
	Head string
}

// Known is an entity as the read model holds it.
type Known struct {
	// Key is the lower-case ref.
	Key string
	// UID is the entity's identifier.
	UID string
	// Hash is the hash of the body last upserted.
	Hash string
	// LocationID owns the entity.
	LocationID string
	// ManagedBy is the file the entity was read from.
	ManagedBy string
}

// State is what the decision reads from the current catalog.
type State interface {
	// Lookup returns the entity with the given key, if any.
	Lookup(key string) (Known, bool)
	// Owned yields the entities the location owns, except those read from the
	// files in except (type:target), which the caller keeps anyway, in an
	// order of the store's (by file), until yield returns false. It reads them
	// as it yields them, so a location of a million entities is never held
	// whole. A read that fails ends the sequence early; the State reports it
	// (the adapters' Err), and a decision made on it must not be written.
	Owned(locationID string, except map[string]bool) iter.Seq[Known]
	// Errors returns the processing errors recorded for the location.
	Errors(locationID string) []event.ProcessingError
}

// FileState is a State that also lists a location's entities by the files
// they were read from, so a refresh that re-read a few files of a large
// location reads back only those files' entities.
type FileState interface {
	State
	// OwnedBy yields the entities the location owns that were read from
	// files (type:target), file by file in the order given, reading them as
	// it yields them. A failed read ends the sequence early, as for Owned.
	OwnedBy(locationID string, files []string) iter.Seq[Known]
}

// Decider turns a location's observation into events incrementally, so a large
// location can be read file by file and its events appended in batches. Call
// Observe for each entity and Fail for each problem, then Finish once.
// A Decider is not safe for concurrent use.
type Decider struct {
	loc    Location
	state  State
	meta   event.Meta
	newUID func() string
	errs   []event.ProcessingError
	// seen holds the 128-bit hash (keyHash) of every key observed, not the
	// key: 16 bytes an entity, where a location of a million entities held
	// a million strings and their map entries until Finish.
	seen  map[keyHash]struct{}
	seeds [2]maphash.Seed
	keepF map[string]bool
	keepE map[string]bool
	// keepAll is set when a target could not be read: what the location
	// yields now is unknown, so nothing it owns is removed.
	keepAll bool
	// refused are the files (type:target) an entity of which was refused
	// as a conflict.
	refused map[string]bool
	// scoped limits Finish to the entities of scopeFiles and scopeKeys
	// (Scope).
	scoped     bool
	scopeFiles []string
	scopeKeys  []string
}

// NewDecider starts a decision for loc against state. newUID makes the UID of an
// entity seen for the first time.
func NewDecider(loc Location, state State, meta event.Meta, newUID func() string) *Decider {
	if meta.Actor == "" {
		meta.Actor = "location:" + loc.ID
	}
	return &Decider{loc: loc, state: state, meta: meta, newUID: newUID,
		seen: map[keyHash]struct{}{}, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, keepF: map[string]bool{}, keepE: map[string]bool{}, refused: map[string]bool{}}
}

// Fail records a problem found while reading.
func (d *Decider) Fail(pe event.ProcessingError) { d.errs = append(d.errs, pe) }

// KeepFile keeps the entities a file yielded before, because it could not be read whole.
func (d *Decider) KeepFile(managedBy string) { d.keepF[managedBy] = true }

// KeepAll keeps every entity the location owns that this refresh does not
// observe, because a target could not be read: the files it names (a glob's
// matches, a Location entity's targets, and theirs) are unknown until it can
// be read again, so a missing folder or an unreadable root file removes
// nothing. Entities observed are still upserted, and the error is recorded.
func (d *Decider) KeepAll() { d.keepAll = true }

// KeepEntity keeps the last good version of an entity whose document is broken now.
func (d *Decider) KeepEntity(key string) { d.keepE[key] = true }

// Scope limits the removals Finish decides to the entities read from files
// (type:target) and the entities of keys (each looked up; one the location
// owns from a file other than these is a candidate too). A refresh that
// re-read only these files of the location, every other file of which
// yields what it yielded at the last refresh (kept with KeepFile), calls it:
// the other files' entities are then known kept, and Finish reads none of
// them. keys are the entities kept at the last refresh for a broken document
// (KeepEntity), which may belong to a file the location no longer reads.
func (d *Decider) Scope(files, keys []string) {
	d.scoped, d.scopeFiles, d.scopeKeys = true, files, keys
}

// Observe decides about one entity the location yields: an upsert when it is new
// or changed, nothing when unchanged, a conflict error when another location owns
// it or it was already seen in this refresh.
func (d *Decider) Observe(o Observed) ([]event.Envelope, error) {
	loc := d.loc
	key := o.Entity.Ref().Key()
	prev, exists := d.state.Lookup(key)
	// A file kept as it was (unchanged since it was read, or unreadable now)
	// still provides what it provided: an entity it holds is seen already,
	// as it was when the file was read, so a refresh decides as a first read.
	keptElsewhere := exists && prev.LocationID == loc.ID && prev.ManagedBy != o.ManagedBy && d.keepF[prev.ManagedBy]
	h := d.hash(key)
	if _, dup := d.seen[h]; dup || keptElsewhere {
		d.refused[o.ManagedBy] = true
		d.errs = append(d.errs, event.ProcessingError{File: o.ManagedBy, Document: -1, Entity: o.Entity.Ref().String(),
			Name: "ConflictError", Message: fmt.Sprintf("entity %s is defined more than once in location %s; the first definition is kept", o.Entity.Ref(), loc.TypeTarget())})
		return nil, nil
	}
	d.seen[h] = struct{}{}
	if exists && prev.LocationID != loc.ID {
		d.refused[o.ManagedBy] = true
		d.errs = append(d.errs, event.ProcessingError{File: o.ManagedBy, Document: -1, Entity: o.Entity.Ref().String(),
			Name: "ConflictError", Message: fmt.Sprintf("entity %s is already provided by another location (%s); it stays with that location", o.Entity.Ref(), prev.ManagedBy)})
		return nil, nil
	}
	set := map[string]string{
		catalog.AnnotationManagedByLocation:       o.ManagedBy,
		catalog.AnnotationManagedByOriginLocation: loc.TypeTarget(),
	}
	if src := catalog.SourceLocation(o.ManagedBy); src != "" && o.Entity.Annotations()[catalog.AnnotationSourceLocation] == nil {
		set[catalog.AnnotationSourceLocation] = src
	}
	ent := o.Entity.WithAnnotations(set)
	body := ent.JSON()
	hash := catalog.HashJSON(body)
	if exists && prev.Hash == hash {
		return nil, nil
	}
	uid := prev.UID
	if !exists {
		uid = d.newUID()
	}
	m := d.meta
	if o.Commit != nil {
		m.Commit = o.Commit.SHA
	}
	ev, err := event.New(event.TypeEntityUpserted, key, event.EntityUpserted{
		Ref: ent.Ref().String(), UID: uid, Hash: hash, Entity: json.RawMessage(body),
		LocationID: loc.ID, ManagedBy: o.ManagedBy, OriginLocation: loc.TypeTarget(), Commit: o.Commit,
	}, m)
	if err != nil {
		return nil, err
	}
	return []event.Envelope{ev}, nil
}

// ObserveUnchanged decides about an entity the location yields from the
// file managedBy as the read model holds it (prev, as State has it): the
// file's document is the one it was when the entity was last written from
// it, so its body is the one prev's hash is of, and the entity need not be
// parsed again. It records the entity as observed and reports true when
// Observe of that body would decide nothing (the location owns the entity
// from that file, and this refresh has not observed it yet); false, when
// Observe must decide it from its body, having recorded nothing.
func (d *Decider) ObserveUnchanged(prev Known, managedBy string) bool {
	if prev.LocationID != d.loc.ID || prev.ManagedBy != managedBy {
		return false
	}
	h := d.hash(prev.Key)
	if _, dup := d.seen[h]; dup {
		return false
	}
	d.seen[h] = struct{}{}
	return true
}

// Finish returns the removals of entities the location no longer yields and,
// when the location's errors changed, the event that records or clears
// them, in the order of FinishEach.
func (d *Decider) Finish() ([]event.Envelope, error) {
	var out []event.Envelope
	err := d.FinishEach(0, func(evs []event.Envelope) error {
		out = append(out, evs...)
		return nil
	})
	return out, err
}

// FinishEach hands emit the removals of entities the location no longer
// yields, file by file as the State yields them (each file's in key order),
// in chunks of at most n events (n ≤ 0: one chunk), then, when the location's
// errors changed, the event that records or clears them. It reads what the
// location owns as the State yields it and holds one file's removals and one
// chunk at a time, so a location of a million entities whose files all
// disappeared is removed in bounded appends. An error of emit ends it.
func (d *Decider) FinishEach(n int, emit func([]event.Envelope) error) error {
	loc := d.loc
	var chunk []event.Envelope
	send := func(force bool) error {
		if len(chunk) == 0 || !force && (n <= 0 || len(chunk) < n) {
			return nil
		}
		err := emit(chunk)
		chunk = nil
		return err
	}
	// One file's removals are held, to be decided in key order: the
	// location's other entities pass by as the store reads them.
	var file []removal
	flushFile := func() error {
		slices.SortFunc(file, func(a, b removal) int { return strings.Compare(a.Key, b.Key) })
		for _, k := range file {
			ev, err := event.New(event.TypeEntityRemoved, k.Key, event.EntityRemoved{
				Ref: k.Key, UID: k.UID, LocationID: loc.ID, Reason: "no longer in " + loc.TypeTarget(),
			}, d.meta)
			if err != nil {
				return err
			}
			chunk = append(chunk, ev)
			if err := send(false); err != nil {
				return err
			}
		}
		file = file[:0]
		return nil
	}
	if !d.keepAll {
		var err error
		last := ""
		for k := range d.candidates() {
			if _, ok := d.seen[d.hash(k.Key)]; ok || d.keepF[k.ManagedBy] || d.keepE[k.Key] {
				continue
			}
			if k.ManagedBy != last && len(file) > 0 {
				if err = flushFile(); err != nil {
					break
				}
			}
			last = k.ManagedBy
			file = append(file, removal{Key: k.Key, UID: k.UID})
		}
		if err != nil {
			return err
		}
		if err := flushFile(); err != nil {
			return err
		}
	}
	if !sameErrors(d.state.Errors(loc.ID), d.errs) {
		var ev event.Envelope
		var err error
		if len(d.errs) == 0 {
			ev, err = event.New(event.TypeProcessingErrorCleared, loc.EntityRef, event.ProcessingErrorCleared{LocationID: loc.ID}, d.meta)
		} else {
			ev, err = event.New(event.TypeProcessingErrorRecorded, loc.EntityRef, event.ProcessingErrorRecorded{LocationID: loc.ID, Errors: d.errs}, d.meta)
		}
		if err != nil {
			return err
		}
		chunk = append(chunk, ev)
	}
	return send(true)
}

// candidates yields the owned entities Finish may remove: every entity of
// the location outside the files kept, or, when scoped, those of the scope's
// files and keys, file by file in the order of the files' names (a walk's
// Owned yields files in the store's order, by name).
func (d *Decider) candidates() iter.Seq[Known] {
	if !d.scoped {
		return d.state.Owned(d.loc.ID, d.keepF)
	}
	return func(yield func(Known) bool) {
		in := make(map[string]bool, len(d.scopeFiles))
		for _, f := range d.scopeFiles {
			in[f] = true
		}
		// The scope's keys owned from a file out of scope (few: the
		// entities kept for broken documents) are looked up first.
		stray := map[string][]Known{}
		asked := map[string]bool{}
		for _, key := range d.scopeKeys {
			if asked[key] {
				continue
			}
			asked[key] = true
			if k, ok := d.state.Lookup(key); ok && k.LocationID == d.loc.ID && !in[k.ManagedBy] {
				stray[k.ManagedBy] = append(stray[k.ManagedBy], k)
			}
		}
		files := slices.Clone(d.scopeFiles)
		for f := range stray {
			files = append(files, f)
		}
		slices.Sort(files)
		files = slices.Compact(files)
		fs, byFile := d.state.(FileState)
		for _, f := range files {
			if ks, ok := stray[f]; ok {
				for _, k := range ks {
					if !yield(k) {
						return
					}
				}
				continue
			}
			var owned iter.Seq[Known]
			if byFile {
				owned = fs.OwnedBy(d.loc.ID, []string{f})
			} else {
				owned = func(yield func(Known) bool) {
					for k := range d.state.Owned(d.loc.ID, nil) {
						if k.ManagedBy == f && !yield(k) {
							return
						}
					}
				}
			}
			for k := range owned {
				if !yield(k) {
					return
				}
			}
		}
	}
}

// removal is an owned entity Finish removes.
type removal struct{ Key, UID string }

// keyHash is the 128-bit hash of an entity key: two 64-bit hashes of
// independent random seeds, made anew for each Decider. Two keys of one hash
// (about one chance in 10^26 among a million keys, and not to be arranged
// by whoever writes the files, who cannot know the seeds) would make the
// second a duplicate of the first.
type keyHash [2]uint64

func (d *Decider) hash(key string) keyHash {
	return keyHash{maphash.String(d.seeds[0], key), maphash.String(d.seeds[1], key)}
}

// Refused reports whether an entity read from the file (type:target) was
// refused as a conflict. Such a file must be read again at the next refresh,
// even when unchanged, so that the conflict is found, and reported, again.
func (d *Decider) Refused(managedBy string) bool { return d.refused[managedBy] }

// ClaimedElsewhere reports whether the entity with the given key belongs to
// another location, and the file (type:target) it was read from there.
func (d *Decider) ClaimedElsewhere(key string) (managedBy string, ok bool) {
	prev, exists := d.state.Lookup(key)
	if !exists || prev.LocationID == d.loc.ID {
		return "", false
	}
	return prev.ManagedBy, true
}

// Errors returns the problems recorded so far.
func (d *Decider) Errors() []event.ProcessingError { return d.errs }

func sameErrors(a, b []event.ProcessingError) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
