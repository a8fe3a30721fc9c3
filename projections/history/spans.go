package history

import (
	"errors"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// SearchSpan is one search row of an entity (Ent, its key) kept for the run
// of versions that carry it: from the version that first has it (From) to the
// one that no longer has it (To, nil while it is open).
type SearchSpan struct {
	// Ent is the entity's key; Key and Value the row's lower-case key and value.
	Ent, Key, Value string
	// Original is the value as written when it differs from Value, else nil.
	Original *string
	// From is where the span opened; To where it closed, nil while open.
	From Mark
	To   *Mark
}

// RelationSpan is one relation an entity (Ent) declares, kept once, by the
// entity that declares it, for the run of versions that carry it. Readers
// derive its reverse (from Target back to Ent, of type Reverse) as the
// catalog read model does.
type RelationSpan struct {
	// Ent is the declaring entity's key; LType the type in lower case;
	// Target the target's key.
	Ent, LType, Target string
	// Type is the type as declared, TargetRef the target's display ref,
	// Reverse the reverse's type and LReverse that in lower case.
	Type, TargetRef, Reverse, LReverse string
	// From is where the span opened; To where it closed, nil while open.
	From Mark
	To   *Mark
}

type (
	searchID   struct{ key, value string }
	relationID struct{ ltype, target string }
)

// open is where an open span of an entity is: stored (pending < 0) or the
// index of its pending new span.
type (
	openSearch struct {
		original *string
		from     Mark
		pending  int
	}
	openRelation struct {
		typ, targetRef, reverse string
		from                    Mark
		pending                 int
	}
	openRows struct {
		search map[searchID]openSearch
		rels   map[relationID]openRelation
	}
)

// Spans turns the catalog rows of an entity's successive versions into spans:
// each version's rows are compared with the entity's open spans, those it no
// longer has are closed at its position, and those it adds are opened there,
// so an edit writes only the rows it changes. A store loads the open spans of
// an entity it holds (Load) before the first Apply of that entity, then
// writes New* (inserts) and Closed* (updates of stored spans). Spans is not
// safe for concurrent use.
type Spans struct {
	cur map[string]*openRows
	// NewSearch and NewRelations are the spans to insert, in the order they
	// opened; those closed by a later version of the same Spans have To set.
	NewSearch    []SearchSpan
	NewRelations []RelationSpan
	// ClosedSearch and ClosedRelations are stored spans (as Load gave them)
	// that closed, with To set.
	ClosedSearch    []SearchSpan
	ClosedRelations []RelationSpan
}

// SpansOf folds the catalog rows of ch's new versions into spans: open loads
// the open spans of the entities whose stored head exists and is not removed
// (heads say which; each key once), then every new version is applied in order.
func SpansOf(ch Change, heads map[string]Head, open func(sp *Spans, keys []string) error) (*Spans, error) {
	if len(ch.Rows) != len(ch.New) {
		return nil, errors.New("history: the change holds no catalog rows")
	}
	var live []string
	seen := map[string]bool{}
	for i := range ch.New {
		k := ch.New[i].Key
		if h, ok := heads[k]; ok && !h.Removed && !seen[k] {
			seen[k] = true
			live = append(live, k)
		}
	}
	sp := NewSpans()
	if err := open(sp, live); err != nil {
		return nil, err
	}
	for i := range ch.New {
		sp.Apply(&ch.New[i], &ch.Rows[i])
	}
	return sp, nil
}

// NewSpans returns empty Spans.
func NewSpans() *Spans { return &Spans{cur: map[string]*openRows{}} }

// Known reports whether the entity's open spans are known: Load or Apply
// was called for it.
func (s *Spans) Known(ent string) bool { return s.cur[ent] != nil }

// Entities is how many entities the Spans knows.
func (s *Spans) Entities() int { return len(s.cur) }

func (s *Spans) entity(ent string) *openRows {
	o := s.cur[ent]
	if o == nil {
		o = &openRows{search: map[searchID]openSearch{}, rels: map[relationID]openRelation{}}
		s.cur[ent] = o
	}
	return o
}

// Load records the stored open spans of an entity (To nil): what its next
// version is compared with. An entity never loaded has none.
func (s *Spans) Load(ent string, search []SearchSpan, rels []RelationSpan) {
	o := s.entity(ent)
	for _, sp := range search {
		o.search[searchID{sp.Key, sp.Value}] = openSearch{original: sp.Original, from: sp.From, pending: -1}
	}
	for _, r := range rels {
		o.rels[relationID{r.LType, r.Target}] = openRelation{typ: r.Type, targetRef: r.TargetRef, reverse: r.Reverse, from: r.From, pending: -1}
	}
}

// Apply moves the open spans of v's entity to the rows of v (rows; none for
// a removal): spans the version no longer has close at v.ValidFrom, rows it
// adds open there.
func (s *Spans) Apply(v *Version, rows *catalogstore.EntityRows) {
	o := s.entity(v.Key)
	at := v.ValidFrom
	next := make(map[searchID]*string, len(rows.Search))
	for _, sr := range rows.Search {
		id := searchID{sr.Key, sr.Value}
		if _, dup := next[id]; !dup {
			next[id] = sr.Original
		}
	}
	for id, c := range o.search {
		if orig, ok := next[id]; ok && sameOriginal(orig, c.original) {
			continue
		}
		to := at
		if c.pending < 0 {
			s.ClosedSearch = append(s.ClosedSearch, SearchSpan{Ent: v.Key, Key: id.key, Value: id.value, Original: c.original, From: c.from, To: &to})
		} else {
			s.NewSearch[c.pending].To = &to
		}
		delete(o.search, id)
	}
	for _, sr := range rows.Search {
		id := searchID{sr.Key, sr.Value}
		if _, ok := o.search[id]; ok {
			continue // unchanged, or a duplicate of this version
		}
		o.search[id] = openSearch{original: sr.Original, from: at, pending: len(s.NewSearch)}
		s.NewSearch = append(s.NewSearch, SearchSpan{Ent: v.Key, Key: sr.Key, Value: sr.Value, Original: sr.Original, From: at})
	}
	nextRels := make(map[relationID]*catalogstore.RelationRow, len(rows.Relations))
	for i := range rows.Relations {
		r := &rows.Relations[i]
		id := relationID{strings.ToLower(r.Type), r.Target}
		if _, dup := nextRels[id]; !dup {
			nextRels[id] = r
		}
	}
	for id, c := range o.rels {
		if r, ok := nextRels[id]; ok && r.Type == c.typ && r.TargetRef == c.targetRef && r.Reverse == c.reverse {
			continue
		}
		to := at
		if c.pending < 0 {
			s.ClosedRelations = append(s.ClosedRelations, RelationSpan{Ent: v.Key, LType: id.ltype, Target: id.target,
				Type: c.typ, TargetRef: c.targetRef, Reverse: c.reverse, LReverse: strings.ToLower(c.reverse), From: c.from, To: &to})
		} else {
			s.NewRelations[c.pending].To = &to
		}
		delete(o.rels, id)
	}
	for i := range rows.Relations {
		r := &rows.Relations[i]
		id := relationID{strings.ToLower(r.Type), r.Target}
		if _, ok := o.rels[id]; ok {
			continue
		}
		o.rels[id] = openRelation{typ: r.Type, targetRef: r.TargetRef, reverse: r.Reverse, from: at, pending: len(s.NewRelations)}
		s.NewRelations = append(s.NewRelations, RelationSpan{Ent: v.Key, LType: id.ltype, Target: id.target,
			Type: r.Type, TargetRef: r.TargetRef, Reverse: r.Reverse, LReverse: strings.ToLower(r.Reverse), From: at})
	}
}

func sameOriginal(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
