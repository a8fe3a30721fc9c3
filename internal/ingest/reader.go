package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest/gitsource"
)

// Location types Backlot reads.
const (
	TypeFile = "file"
	TypeURL  = "url"
)

// DefaultMaxDepth is how deep Location entities may nest.
const DefaultMaxDepth = 10

// Config configures a Reader.
type Config struct {
	// Roots confines file targets.
	Roots Roots
	// Git reads url targets; nil refuses every url target.
	Git *gitsource.Reader
	// Limits bound each file.
	Limits catalog.Limits
	// MaxDepth bounds the nesting of Location entities; default DefaultMaxDepth.
	MaxDepth int
	// Kinds are the kinds accepted; nil accepts the built-in kinds only.
	Kinds *catalog.Kinds
	// ParseEveryDocument makes a changed file's every document parsed,
	// including those whose text did not change (UnchangedSink is not
	// used): the reference that tests compare the walk that skips them with.
	ParseEveryDocument bool
}

// Reader reads locations into a Sink. It remembers every file that read cleanly
// (no problem, no placeholder) by its content hash: when such a file is unchanged,
// a later walk keeps what it yielded without parsing it again and only follows
// the Location targets it named. That makes the periodic refresh of a large,
// mostly unchanged catalog cheap.
type Reader struct {
	cfg Config
	// seed hashes entity keys (keyHash): the memos keep the hashes of the
	// keys their files yielded, which must compare across walks.
	seed maphash.Seed

	mu    sync.Mutex
	memos map[string]fileMemo
	// plans are the file locations' last walks (type:target of the
	// location), for a refresh of a few changed files (Changed, Rewalk).
	plans map[string]*locPlan

	// filesRead counts the descriptor files read from disk (FilesRead).
	filesRead atomic.Int64
	// docsParsed counts the documents decoded (DocumentsParsed).
	docsParsed atomic.Int64
}

// DocumentsParsed returns how many YAML documents the Reader has decoded
// since it was made: an edit of one entity of a file of many decodes one.
func (r *Reader) DocumentsParsed() int64 { return r.docsParsed.Load() }

// FilesRead returns how many descriptor files the Reader has read from disk
// since it was made: a refresh of one edited file of a location reads one.
func (r *Reader) FilesRead() int64 { return r.filesRead.Load() }

// keyHash returns the 64-bit hash of an entity key that the walk and the
// memos keep instead of the key itself: 8 bytes an entity instead of the key's
// string and its map entry, which at 100,000 entities was megabytes held
// between walks. Two keys of one hash (about one chance in 10^10 among
// 100,000 keys) only change how an invalid document naming one of them is
// reported: as a copy rather than by its own errors; a valid one is decided on
// its full key.
func (r *Reader) keyHash(key string) uint64 { return maphash.String(r.seed, key) }

// textHash returns the 64-bit hash of a document's text that the memos keep
// (docMemo): a document of the same hash is taken as unchanged. The seed is
// the process's own, so the chance that an edit keeps a document's hash
// (one in 2^64) cannot be arranged by whoever writes the file.
func (r *Reader) textHash(text []byte) uint64 { return maphash.Bytes(r.seed, text) }

// fileMemo is what a clean file yielded, keyed by type:target of the file.
type fileMemo struct {
	hash [32]byte
	// stamp is the file's size and modification time when it was read, set
	// only for a file that had not changed for stampSettle before: a file on
	// disk whose stamp is the same again is known unchanged without being
	// read (see stampOf).
	stamp    fileStamp
	children []childTarget
	// keys are the hashes (Reader.keyHash) of the entities the file
	// yielded, so a later copy of one of them elsewhere is known as a copy
	// even when this file is not parsed.
	keys []uint64
	// docs are the file's documents, in order: when the file changes, a
	// document whose text is the same is taken unchanged without being
	// parsed (UnchangedSink), so an edit of one entity of a file of many
	// parses one document.
	docs []docMemo
}

// docMemo is one document of a clean file: 24 bytes, where the entity it
// yielded is kilobytes.
type docMemo struct {
	// text is the hash of the document's text (Reader.textHash).
	text uint64
	// key is the hash of the key of the entity it yielded (Reader.keyHash).
	key uint64
	// nodes is how many YAML nodes it expanded to, which count against the
	// file's limit (catalog.Limits.MaxFileNodes) unparsed too.
	nodes int32
	// plain is false for a Location entity, whose targets a walk follows:
	// it is always parsed.
	plain bool
}

// childTarget is a Location entity's target found in a file.
type childTarget struct {
	locType, target string
}

// Forget drops every remembered file, so the next walk parses everything. Call it
// when entities were removed behind the files' back (a delete through the API).
func (r *Reader) Forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.memos = nil
	r.plans = nil
}

func (r *Reader) memo(managedBy string) (fileMemo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.memos[managedBy]
	return m, ok
}

func (r *Reader) remember(managedBy string, m *fileMemo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.memos == nil {
		r.memos = map[string]fileMemo{}
	}
	if m == nil {
		delete(r.memos, managedBy)
		return
	}
	r.memos[managedBy] = *m
}

// NewReader returns a Reader.
func NewReader(cfg Config) *Reader {
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	return &Reader{cfg: cfg, seed: maphash.MakeSeed()}
}

// Sink receives what a walk finds. refresh.Decider is the usual Sink, wrapped to
// append its events.
type Sink interface {
	// Entity receives each valid entity in file and document order.
	Entity(o refresh.Observed) error
	// Problem receives each problem.
	Problem(pe event.ProcessingError)
	// KeepFile marks a file that could not be read whole.
	KeepFile(managedBy string)
	// KeepUnread marks a target (type:target) that could not be read at all:
	// the files it names are unknown, so the walk saw less than the location
	// holds and must remove nothing it did not see.
	KeepUnread(target string)
	// KeepEntity marks an entity whose document is broken now.
	KeepEntity(key string)
}

// UnchangedSink is a Sink that takes an entity of a changed file whose
// document is the one the file held at its last clean read without the
// document being parsed again: the read model holds that entity from that
// file as that document made it (what the Reader remembers of a file is
// what the log holds of it). A walk asks Held once for such a file, and
// hands each such entity it finds there to Unchanged; one Held does not
// list, or that Unchanged refuses, is parsed and handed to Entity.
type UnchangedSink interface {
	Sink
	// Held returns the entities the read model holds from the file
	// managedBy (type:target) for the location walked.
	Held(managedBy string) []refresh.Known
	// Unchanged decides about an entity the file yields as the read model
	// holds it (one of Held's), as Entity would for the same body, and
	// reports true; false when only Entity can decide, nothing being
	// recorded (refresh.Decider.ObserveUnchanged).
	Unchanged(managedBy string, k refresh.Known) bool
}

// PrefetchingSink is a Sink that reads what it knows of entities in bulk:
// before a file's entities, the walk hands it the keys its documents name,
// so it can look them up in one query instead of one per entity. A key it
// was not handed, or that names no entity after validation, it looks up
// alone.
type PrefetchingSink interface {
	Sink
	Prefetch(keys []string)
}

// RefusingSink is a Sink that may refuse an entity it received, as a
// conflict with another file or location. A file with a refused entity is
// not remembered as clean: the next walk reads it again, so the conflict is
// found, and reported, at every refresh as at the first.
type RefusingSink interface {
	Sink
	// Refused reports whether an entity of the file (type:target) was refused.
	Refused(managedBy string) bool
}

// ClaimingSink is a Sink that knows which entities other locations own. A
// document that fails validation and names such an entity is a copy, reported
// as a conflict rather than by its own errors.
type ClaimingSink interface {
	Sink
	// ClaimedElsewhere reports whether another location owns the entity
	// with the given key, and the file (type:target) it was read from.
	ClaimedElsewhere(key string) (managedBy string, ok bool)
}

// Normalize checks a target before it is registered and returns its canonical form:
// an absolute path for file targets, the parsed URL for url targets. It returns a
// *NotAllowedError outside the granted roots and hosts, an *InputError for a
// malformed target.
func (r *Reader) Normalize(ctx context.Context, locType, target string) (string, error) {
	switch locType {
	case TypeFile:
		t := strings.TrimPrefix(target, "file://")
		if t == "" {
			return "", &InputError{Msg: "file location target is empty"}
		}
		abs, err := r.cfg.Roots.Check(t)
		if err != nil {
			return "", err
		}
		return abs, nil
	case TypeURL:
		if r.cfg.Git == nil {
			return "", &NotAllowedError{Target: target, Reason: "url locations are not enabled"}
		}
		t, err := gitsource.ParseTarget(target)
		if err != nil {
			return "", &InputError{Msg: err.Error()}
		}
		// Hosts and roots are checked by Probe, which reads the target before it is registered.
		_ = t
		return target, nil
	}
	return "", &InputError{Msg: fmt.Sprintf("unknown location type %q; Backlot reads file and url locations", locType)}
}

// Walk reads the location's target, follows Location entities, and reports every
// entity and problem to sink. It returns only errors of the sink or the context;
// read problems go to the sink. With useMemo, unchanged clean files are skipped
// (see Reader); the returned commit records this walk's files for later walks and
// must be called only once what the sink received has been written.
func (r *Reader) Walk(ctx context.Context, locType, target string, sink Sink, useMemo bool) (commit func(), err error) {
	w := &walk{r: r, sink: sink, visited: map[string]bool{}, useMemo: useMemo, pending: map[string]*fileMemo{}, yielded: map[uint64]int32{}, fileIndex: map[string]int32{}}
	key := locType + ":" + target
	if useMemo {
		// A walk that is not committed leaves no plan: the next refresh
		// walks the whole location again.
		r.setPlan(key, nil)
		w.rec = newPlan(locType == TypeFile)
	}
	if err := w.target(ctx, locType, target, nil, 0); err != nil {
		return func() {}, err
	}
	return func() {
		for k, m := range w.pending {
			r.remember(k, m)
		}
		if w.rec != nil {
			r.setPlan(key, w.rec)
		}
	}, nil
}

type walk struct {
	r       *Reader
	sink    Sink
	visited map[string]bool
	useMemo bool
	pending map[string]*fileMemo
	// yielded maps the key hash (Reader.keyHash) of each entity this walk
	// yielded (or kept from an unchanged file) to the index in files of the
	// file (type:target) it came from. The walk keeps no per-entity string:
	// the decision that follows it holds the keys it must compare exactly.
	yielded map[uint64]int32
	// files are the files this walk met, fileIndex their indexes.
	files     []string
	fileIndex map[string]int32
	// rec records the walk's plan (a walk with useMemo); in a replay, the
	// plan the replay leaves.
	rec *locPlan
	// replay is set when the walk replays a plan (Rewalk): it re-reads the
	// files it is handed and follows no target.
	replay *replayState
}

// hasYielded reports whether the walk yielded an entity of key hash h.
func (w *walk) hasYielded(h uint64) bool {
	_, ok := w.yielded[h]
	return ok
}

// indexOf returns the index of the file managedBy in w.files, adding it.
func (w *walk) indexOf(managedBy string) int32 {
	if i, ok := w.fileIndex[managedBy]; ok {
		return i
	}
	i := int32(len(w.files))
	w.files = append(w.files, managedBy)
	w.fileIndex[managedBy] = i
	return i
}

// fileStamp is what a file's metadata says about its content: its size and
// modification time.
type fileStamp struct {
	size, mtime int64
}

// stampSettle is how long a file must have been left alone before its stamp
// stands for its content. A write lands within a file system's timestamp
// granularity (a few milliseconds to two seconds) of the last one only if
// the file was written that recently; a file older than that gets a new
// modification time from any write.
const stampSettle = 3 * time.Second

// stampOf returns the stamp of fi, and false when the file changed within
// stampSettle of now and must be read to be known.
func stampOf(fi os.FileInfo, now time.Time) (fileStamp, bool) {
	if !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < stampSettle {
		return fileStamp{}, false
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}

// file is one descriptor file read from disk or git.
type file struct {
	managedBy string
	content   []byte
	// unchanged says the file's stamp is the one remembered with its memo:
	// it was not read, and content is nil.
	unchanged bool
	// stamp is the file's stamp before it was read (zero when unknown).
	stamp  fileStamp
	commit *event.Commit
	// head is the commit a file from git was read at.
	head string
	// readRel reads a path relative to the file, for placeholders.
	readRel func(ctx context.Context, rel string) ([]byte, string, error)
	// child resolves a Location entity's target relative to the file.
	child func(locType, target string) (string, string, error)
}

func (w *walk) target(ctx context.Context, locType, target string, parent *file, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := locType + ":" + target
	if w.visited[key] {
		return nil
	}
	w.visited[key] = true
	if w.rec != nil && (locType != TypeFile || depth > w.r.cfg.MaxDepth) {
		w.rec.eligible = false
	}
	if depth > w.r.cfg.MaxDepth {
		w.sink.Problem(event.ProcessingError{File: key, Document: -1, Name: "InputError",
			Message: fmt.Sprintf("Location entities nest deeper than %d levels", w.r.cfg.MaxDepth)})
		return nil
	}
	files, err := w.read(ctx, locType, target)
	if w.rec != nil && locType == TypeFile {
		if err != nil {
			w.rec.eligible = false
		} else if hasGlob(target) {
			if abs, cerr := w.r.cfg.Roots.Check(strings.TrimPrefix(target, "file://")); cerr == nil {
				w.rec.addGlob(abs)
			}
		}
	}
	if err != nil {
		w.sink.Problem(event.ProcessingError{File: key, Document: -1, Name: errorName(err), Message: err.Error()})
		w.sink.KeepFile(key)
		w.sink.KeepUnread(key)
		if parent != nil {
			w.sink.KeepFile(parent.managedBy)
		}
		// Keep whatever the unreadable target yielded before: its files are unknown now.
		return nil
	}
	for i := range files {
		if err := w.file(ctx, locType, &files[i], depth); err != nil {
			return err
		}
	}
	return nil
}

func (w *walk) file(ctx context.Context, locType string, f *file, depth int) error {
	// kids are the targets of the file's Location entities, for the plan.
	var kids []childTarget
	if w.rec != nil && w.replay == nil {
		i := w.rec.addFile(f.managedBy)
		defer func() { w.rec.files[i].children = kids }()
	} else if w.replay != nil {
		defer func() { w.replay.kids = kids }()
	}
	var sum [32]byte
	if !f.unchanged {
		sum = sha256.Sum256(f.content)
	}
	if m, ok := w.r.memo(f.managedBy); ok && w.useMemo && (f.unchanged || m.hash == sum) && f.commit == nil {
		// Unchanged and clean last time: keep what it yielded, follow its targets.
		w.sink.KeepFile(f.managedBy)
		if !f.unchanged && f.stamp != m.stamp {
			// Read again for a new stamp (touched, or settled since): remember
			// the new one, so the next walk need not read it.
			m.stamp = f.stamp
			w.pending[f.managedBy] = &m
		}
		if len(m.keys) > 0 {
			fi := w.indexOf(f.managedBy)
			for _, k := range m.keys {
				if _, ok := w.yielded[k]; !ok {
					w.yielded[k] = fi
					if w.replay != nil {
						w.replay.yielded(k)
					}
				}
			}
		}
		kids = m.children
		if w.replay != nil {
			return nil // the replay meets the children in the plan's order
		}
		for _, c := range m.children {
			if err := w.target(ctx, c.locType, c.target, f, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	memo := &fileMemo{hash: sum, stamp: f.stamp}
	fail := func(pe event.ProcessingError) {
		w.sink.Problem(pe)
		memo = nil
	}
	defer func() {
		if f.commit == nil {
			w.pending[f.managedBy] = memo
		}
	}()
	var prev []docMemo
	if m, ok := w.r.memo(f.managedBy); ok && w.useMemo && f.commit == nil {
		prev = m.docs
	}
	us, _ := w.sink.(UnchangedSink)
	if us == nil || w.r.cfg.ParseEveryDocument {
		prev = nil
	}
	pf, err := w.r.parse(f, prev)
	if err != nil {
		fail(problemOf(err, f.managedBy))
		w.sink.KeepFile(f.managedBy)
		return nil
	}
	docs := pf.docs
	if memo != nil {
		memo.docs = make([]docMemo, len(docs))
	}
	// held are the entities the read model holds from the file, by key
	// hash, when a document is unchanged.
	var held map[uint64]refresh.Known
	if pf.skipped > 0 {
		held = map[uint64]refresh.Known{}
		for _, k := range us.Held(f.managedBy) {
			held[w.r.keyHash(k.Key)] = k
		}
	}
	if ps, ok := w.sink.(PrefetchingSink); ok && len(docs)-pf.skipped > 1 {
		keys := make([]string, 0, len(docs)-pf.skipped)
		for i, d := range docs {
			if d.Err == nil && !pf.skip[i] {
				if r, ok := catalog.RefFromBody(d.Body); ok {
					keys = append(keys, r.Key())
				}
			}
		}
		ps.Prefetch(keys)
	}
	for i, d := range docs {
		if pf.skip[i] {
			dm := prev[i]
			if k, ok := held[dm.key]; ok && !w.hasYielded(dm.key) && us.Unchanged(f.managedBy, k) {
				w.yielded[dm.key] = w.indexOf(f.managedBy)
				if w.replay != nil {
					w.replay.yielded(dm.key)
				}
				if memo != nil {
					memo.keys = append(memo.keys, dm.key)
					memo.docs[i] = dm
				}
				continue
			}
			// Only its body can decide: parse it after all (its nodes are
			// counted already, and are the same).
			d, _ = catalog.DecodeDocument(f.managedBy, pf.chunks[i], i, w.r.cfg.Limits)
			w.r.docsParsed.Add(1)
		}
		if d.Err != nil {
			pe := problemOf(d.Err, f.managedBy)
			fail(pe)
			w.keep(pe, f)
			continue
		}
		// A body without placeholders is taken as parsed: resolving makes a
		// copy of the whole body, a fifth of what the walk allocated.
		body, err := d.Body, error(nil)
		if catalog.HasPlaceholders(d.Body) {
			memo = nil // the files it points at may change on their own
			body, err = catalog.ResolvePlaceholders(d.Body, func(target string) ([]byte, string, error) {
				b, at, err := f.readRel(ctx, target)
				if w.rec != nil && at != "" {
					w.rec.addDep(at)
				}
				return b, at, err
			}, w.r.cfg.Limits)
		}
		if err != nil {
			var fe *catalog.FieldError
			pe := event.ProcessingError{File: f.managedBy, Document: d.Index, Entity: guessRef(d.Body), Name: "InputError", Message: err.Error()}
			if errors.As(err, &fe) {
				pe.Field, pe.Message = fe.Field, fe.Message
			}
			fail(pe)
			w.keep(pe, f)
			continue
		}
		ent, err := w.r.cfg.Kinds.NewEntity(body)
		if err != nil {
			if pe, ok := w.copyOf(body, f.managedBy, d.Index); ok {
				// A second definition of an entity already read is not read at
				// all, as in Backstage, so its own errors are not reported:
				// only that it is a copy.
				fail(pe)
				continue
			}
			var ve *catalog.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve.Fields {
					fail(event.ProcessingError{File: f.managedBy, Document: d.Index, Entity: ve.Entity,
						Field: fe.Field, Name: "InputError", Message: fe.Message})
				}
				w.keep(event.ProcessingError{Entity: ve.Entity}, f)
			} else {
				pe := event.ProcessingError{File: f.managedBy, Document: d.Index, Name: "InputError", Message: err.Error()}
				fail(pe)
				w.keep(pe, f)
			}
			continue
		}
		if err := w.sink.Entity(refresh.Observed{Entity: ent, ManagedBy: f.managedBy, Commit: f.commit, Head: f.head}); err != nil {
			return err
		}
		h := w.r.keyHash(ent.Ref().Key())
		if !w.hasYielded(h) {
			w.yielded[h] = w.indexOf(f.managedBy)
			if w.replay != nil {
				w.replay.yielded(h)
			}
			if memo != nil {
				memo.keys = append(memo.keys, h)
			}
		}
		if memo != nil {
			memo.docs[i] = docMemo{text: pf.texts[i], key: h, nodes: int32(pf.nodes[i]), plain: !strings.EqualFold(ent.Kind(), "Location")}
		}
		if rs, ok := w.sink.(RefusingSink); ok && rs.Refused(f.managedBy) {
			memo = nil
		}
		if strings.EqualFold(ent.Kind(), "Location") {
			children, clean, err := w.follow(ctx, locType, ent, f, d.Index, depth)
			if err != nil {
				return err
			}
			kids = append(kids, children...)
			if !clean {
				memo = nil
			} else if memo != nil {
				memo.children = append(memo.children, children...)
			}
		}
	}
	return nil
}

// keep protects what a broken document yielded before. Which entity a broken
// document held cannot be known for sure (its name may be what broke), so every
// entity the file yielded before and does not yield now is kept until the file
// is fixed: a broken document never removes anything.
func (w *walk) keep(pe event.ProcessingError, f *file) {
	if pe.Entity != "" {
		if r, err := catalog.ParseRef(pe.Entity, catalog.RefDefaults{Kind: "Component"}); err == nil {
			w.sink.KeepEntity(r.Key())
			if w.rec != nil {
				w.rec.keptKeys = append(w.rec.keptKeys, r.Key())
			}
		}
	}
	w.sink.KeepFile(f.managedBy)
}

// follow reads the targets of a Location entity and returns them; clean is false
// when a target could not be resolved.
func (w *walk) follow(ctx context.Context, locType string, ent *catalog.Entity, f *file, doc, depth int) (children []childTarget, clean bool, err error) {
	clean = true
	spec, _ := ent.Body()["spec"].(map[string]any)
	childType, _ := spec["type"].(string)
	if childType == "" {
		childType = locType
	}
	var targets []string
	if t, ok := spec["target"].(string); ok && t != "" {
		targets = append(targets, t)
	}
	if ts, ok := spec["targets"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok && s != "" {
				targets = append(targets, s)
			}
		}
	}
	if childType != TypeFile && childType != TypeURL {
		// Backstage reads a location only through a processor that handles its
		// type; with none installed for it (github-discovery and the other
		// discovery types are providers' business), each target is an error.
		for _, t := range targets {
			w.sink.Problem(event.ProcessingError{File: f.managedBy, Document: doc, Entity: ent.Ref().String(),
				Field: "spec.type", Name: "InputError", Message: UnreadableTypeMessage(childType, t)})
		}
		return nil, len(targets) == 0, nil
	}
	for _, t := range targets {
		typ, resolved, err := f.child(childType, t)
		if err != nil {
			w.sink.Problem(event.ProcessingError{File: f.managedBy, Document: doc, Entity: ent.Ref().String(),
				Field: "spec.targets", Name: errorName(err), Message: err.Error()})
			clean = false
			continue
		}
		children = append(children, childTarget{locType: typ, target: resolved})
		if w.replay != nil {
			continue // the replay meets the children in the plan's order
		}
		if err := w.target(ctx, typ, resolved, f, depth+1); err != nil {
			return nil, false, err
		}
	}
	return children, clean, nil
}

// UnreadableTypeMessage is the error of a location target whose type Backlot
// cannot read, worded as Backstage's catalog words it.
func UnreadableTypeMessage(locType, target string) string {
	return fmt.Sprintf("No processor was able to handle reading of %s:%s; Backlot reads %s and %s locations", locType, target, TypeFile, TypeURL)
}

// copyOf reports whether a document that failed validation names an entity
// this walk already yielded, or another location owns, and returns the
// ConflictError that reports it.
func (w *walk) copyOf(body map[string]any, file string, doc int) (event.ProcessingError, bool) {
	r, found := catalog.RefFromBody(body)
	if !found {
		return event.ProcessingError{}, false
	}
	key := r.Key()
	pe := event.ProcessingError{File: file, Document: doc, Entity: key, Name: "ConflictError"}
	first, ok := "", false
	if w.replay != nil {
		first, ok = w.replay.firstYielder(w.r, w.r.keyHash(key))
	} else if i, found := w.yielded[w.r.keyHash(key)]; found {
		first, ok = w.files[i], true
	}
	if ok {
		pe.Message = fmt.Sprintf("entity %s is defined more than once; the first definition (%s) is kept and this copy is not read", key, first)
		return pe, true
	}
	if cs, ok := w.sink.(ClaimingSink); ok {
		if owner, ok := cs.ClaimedElsewhere(key); ok {
			pe.Message = fmt.Sprintf("entity %s is already provided by another location (%s); it stays with that location and this copy is not read", key, owner)
			return pe, true
		}
	}
	return event.ProcessingError{}, false
}

// read returns the files a target names.
func (w *walk) read(ctx context.Context, locType, target string) ([]file, error) {
	switch locType {
	case TypeFile:
		return w.readFiles(target)
	case TypeURL:
		return w.readURL(ctx, target)
	}
	return nil, &InputError{Msg: fmt.Sprintf("unknown location type %q", locType)}
}

func (w *walk) readFiles(target string) ([]file, error) {
	abs, err := w.r.cfg.Roots.Check(strings.TrimPrefix(target, "file://"))
	if err != nil {
		return nil, err
	}
	paths, err := expandFiles(abs)
	if err != nil {
		return nil, err
	}
	var out []file
	now := time.Now()
	for _, p := range paths {
		// A target that names one file was checked above: resolving its
		// links again (a lstat of every folder of its path) cost a refresh's
		// walk over 1,000 unchanged files as much as the rest of reading them.
		if p != abs {
			if _, err := w.r.cfg.Roots.Check(p); err != nil {
				return nil, err
			}
		}
		f, err := w.diskFile(p, now)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// diskFile reads the file at p (checked against the roots), unless its
// stamp is the one remembered with its memo.
func (w *walk) diskFile(p string, now time.Time) (file, error) {
	managedBy := TypeFile + ":" + p
	// A file whose stamp is the one remembered is not read again: a
	// refresh of a location of many files, made by an edit of one, reads
	// that one alone.
	var stamp fileStamp
	unchanged := false
	if fi, err := os.Stat(p); err == nil {
		if st, ok := stampOf(fi, now); ok {
			stamp = st
			m, ok := w.r.memo(managedBy)
			unchanged = ok && w.useMemo && m.stamp == st
		}
	}
	var content []byte
	if !unchanged {
		var err error
		if content, err = readFileBounded(p, w.r.cfg.Limits.MaxFileBytes); err != nil {
			return file{}, err
		}
		w.r.filesRead.Add(1)
	}
	dir := filepath.Dir(p)
	return file{
		managedBy: managedBy,
		content:   content,
		unchanged: unchanged,
		stamp:     stamp,
		readRel: func(_ context.Context, rel string) ([]byte, string, error) {
			if strings.Contains(rel, "://") {
				return nil, "", &NotAllowedError{Target: rel, Reason: "a placeholder in a file location reads files only"}
			}
			q := rel
			if !filepath.IsAbs(q) {
				q = filepath.Join(dir, rel)
			}
			abs, err := w.r.cfg.Roots.Check(q)
			if err != nil {
				return nil, "", err
			}
			b, err := readFileBounded(abs, w.r.cfg.Limits.MaxFileBytes)
			return b, abs, err
		},
		child: func(typ, t string) (string, string, error) {
			if typ == TypeURL || strings.Contains(t, "://") && !strings.HasPrefix(t, "file://") {
				return TypeURL, t, nil
			}
			t = strings.TrimPrefix(t, "file://")
			if !filepath.IsAbs(t) {
				t = filepath.Join(dir, t)
			}
			return TypeFile, filepath.Clean(t), nil
		},
	}, nil
}

func (w *walk) readURL(ctx context.Context, target string) ([]file, error) {
	if w.r.cfg.Git == nil {
		return nil, &NotAllowedError{Target: target, Reason: "url locations are not enabled"}
	}
	t, err := gitsource.ParseTarget(target)
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	gf, err := w.r.cfg.Git.Read(ctx, t)
	if err != nil {
		return nil, mapGitError(err, target)
	}
	commit := &event.Commit{SHA: gf.Commit.SHA, Author: gf.Commit.Author, Email: gf.Commit.Email}
	if !gf.Commit.Time.IsZero() {
		commit.Time = gf.Commit.Time.UTC().Format(time.RFC3339)
	}
	pinned := gf.Target
	return []file{{
		managedBy: TypeURL + ":" + target,
		content:   gf.Content,
		commit:    commit,
		head:      gf.HeadSHA,
		readRel: func(ctx context.Context, rel string) ([]byte, string, error) {
			var rt gitsource.Target
			if strings.Contains(rel, "://") {
				rt, err = gitsource.ParseTarget(rel)
			} else {
				rt, err = pinned.Join(rel)
			}
			if err != nil {
				return nil, "", &InputError{Msg: err.Error()}
			}
			rf, err := w.r.cfg.Git.Read(ctx, rt)
			if err != nil {
				return nil, "", mapGitError(err, rel)
			}
			return rf.Content, rf.URL, nil
		},
		child: func(typ, rel string) (string, string, error) {
			if strings.Contains(rel, "://") {
				return TypeURL, rel, nil
			}
			if typ == TypeFile {
				return "", "", &NotAllowedError{Target: rel, Reason: "a url location cannot point at local files"}
			}
			jt, err := t.Join(rel)
			if err != nil {
				return "", "", &InputError{Msg: err.Error()}
			}
			return TypeURL, jt.String(), nil
		},
	}}, nil
}

func mapGitError(err error, target string) error {
	var na *gitsource.NotAllowedError
	var nf *gitsource.NotFoundError
	var it *gitsource.InvalidTargetError
	switch {
	case errors.As(err, &na):
		return &NotAllowedError{Target: target, Reason: na.Reason}
	case errors.As(err, &nf):
		return &NotFoundError{Target: target, Err: err}
	case errors.As(err, &it):
		return &InputError{Msg: err.Error()}
	}
	return err
}

// errorName is the name a processing error records for err: Backstage's name
// of its fault category, as the catalog's entity status shows it.
func errorName(err error) string {
	switch {
	case errors.Is(err, fault.Forbidden):
		return "NotAllowedError"
	case errors.Is(err, fault.NotFound):
		return "NotFoundError"
	case errors.Is(err, fault.Invalid), errors.Is(err, catalog.ErrTooLarge):
		return "InputError"
	}
	return "Error"
}

func problemOf(err error, file string) event.ProcessingError {
	var de *catalog.DocumentError
	if errors.As(err, &de) {
		msg := de.Err.Error()
		return event.ProcessingError{File: file, Document: de.Document, Entity: de.Entity, Field: de.Field, Name: "InputError", Message: msg}
	}
	return event.ProcessingError{File: file, Document: -1, Name: errorName(err), Message: err.Error()}
}

// Probe checks that a location's root target can be read, so a registration of a
// missing file fails at once instead of registering a location that yields nothing.
func (r *Reader) Probe(ctx context.Context, locType, target string) error {
	switch locType {
	case TypeFile:
		abs, err := r.cfg.Roots.Check(strings.TrimPrefix(target, "file://"))
		if err != nil {
			return err
		}
		if hasGlob(abs) {
			return nil
		}
		_, err = expandFiles(abs)
		return err
	case TypeURL:
		w := &walk{r: r, visited: map[string]bool{}}
		_, err := w.readURL(ctx, target)
		return err
	}
	return &InputError{Msg: fmt.Sprintf("unknown location type %q", locType)}
}

// guessRef names the entity of a document that may be invalid, or "".
func guessRef(body map[string]any) string {
	if r, ok := catalog.RefFromBody(body); ok {
		return r.String()
	}
	return ""
}

// Kinds returns the kinds the reader accepts; nil (the built-in kinds) for a
// nil Reader.
func (r *Reader) Kinds() *catalog.Kinds {
	if r == nil {
		return nil
	}
	return r.cfg.Kinds
}

// Roots returns the folders file targets are confined to.
func (r *Reader) Roots() Roots { return r.cfg.Roots }

// Git returns the reader of url targets, nil when url targets are refused.
func (r *Reader) Git() *gitsource.Reader { return r.cfg.Git }
