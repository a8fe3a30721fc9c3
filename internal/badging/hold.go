package badging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"backlot.dev/backlot/domain/event"
)

// held keeps the drafts of a full evaluation's events, page by page in the
// order they were rated, until the rating ends; heldEvents turns them into
// events then. Appending the events while rating took a third of the
// rating's CPU (the event log's inserts), and the events themselves, about
// 1.5 KB each, are too many to keep under dev's Go memory limit. The drafts
// are kept compact instead: each entity's strings (key, ref, hash, owner)
// in one byte buffer per page, which the collector does not scan, and what
// the entities share (a policy's check outcomes for one pattern of passed
// checks, the catalog facts, the names of policies, levels and types) once,
// by index. An entity whose drafts do not take this form (a check that
// failed with an error, campaigns, more than 64 checks, another actor's
// event) is kept as its drafts.
//
// A held is used by one goroutine at a time.
type held struct {
	// now is the instant of the evaluation, the time of the facts it
	// collects.
	now   time.Time
	pages [][]byte
	// index locates each entity's record, in the order added until
	// sortByKey sorts it by the entities' keys.
	index []heldRef
	// odd are the drafts of the entities kept as they are, by index.
	odd [][]draft
	// outcomes are the interned checks and changed lists, by index (outcome
	// keys them).
	outcomes []outcomeSet
	outcome  map[outcomeKey]int
	// blobs are the interned facts documents, and syms the short strings
	// (policy, level and type names, sources), by index.
	blobs [][]byte
	blob  map[string]int
	syms  []string
	sym   map[string]int
}

// heldRef is where an entity's record starts: its page and offset.
type heldRef struct{ page, off uint32 }

// outcomeSet is one list of checks and the list of those that changed, as
// events carry them; many entities share each.
type outcomeSet struct {
	checks  []event.CheckOutcome
	changed []string
}

// outcomeKey identifies an outcomeSet of a policy: which of its checks
// passed, and which are in changed (each in the checks' order).
type outcomeKey struct {
	policy          string
	n               int
	passed, changed uint64
	nilChecks       bool
	nilChanged      bool
}

// The kinds of a held entity's record, and of its drafts.
const (
	heldOdd     byte = 0
	heldCompact byte = 1
	heldFacts   byte = 'f'
	heldBadge   byte = 'b'
)

func newHeld(now time.Time) *held {
	return &held{now: now, outcome: map[outcomeKey]int{}, blob: map[string]int{}, sym: map[string]int{}}
}

// startPage begins the record of the next page.
func (h *held) startPage() { h.pages = append(h.pages, nil) }

// add keeps an entity's drafts (types resolved: no draft has cur set), at the
// end of the current page.
func (h *held) add(key string, ds []draft) {
	b := h.pages[len(h.pages)-1]
	h.index = append(h.index, heldRef{page: uint32(len(h.pages) - 1), off: uint32(len(b))})
	rec, ok := h.compact(key, ds)
	if !ok {
		b = append(b, heldOdd)
		b = appendStr(b, key)
		b = binary.AppendUvarint(b, uint64(len(h.odd)))
		h.odd = append(h.odd, ds)
	} else {
		b = append(b, rec...)
	}
	h.pages[len(h.pages)-1] = b
}

// compact returns the compact record of an entity's drafts, or false when
// they do not take that form.
func (h *held) compact(key string, ds []draft) ([]byte, bool) {
	b := make([]byte, 0, 64+len(key))
	b = append(b, heldCompact)
	b = appendStr(b, key)
	b = binary.AppendUvarint(b, uint64(len(ds)))
	for _, dr := range ds {
		switch {
		case dr.f != nil && dr.ev == nil && dr.d == nil && dr.cur == nil:
			f := dr.f
			if f.Facts == nil || f.ObservedAt != h.now {
				return nil, false
			}
			b = append(b, heldFacts)
			b = appendStr(b, f.Entity)
			b = binary.AppendUvarint(b, uint64(h.symbol(f.Source)))
			b = binary.AppendUvarint(b, uint64(h.intern(f.Facts)))
		case dr.d != nil && dr.ev == nil && dr.f == nil && dr.cur == nil:
			d := dr.d
			if len(d.Campaigns) > 0 || d.Entity != key || d.LevelRank < 0 {
				return nil, false
			}
			o, ok := h.outcomeOf(d)
			if !ok {
				return nil, false
			}
			b = append(b, heldBadge)
			b = binary.AppendUvarint(b, uint64(h.symbol(string(dr.t))))
			b = binary.AppendUvarint(b, uint64(h.symbol(d.Policy)))
			b = binary.AppendUvarint(b, uint64(h.symbol(d.Level)))
			b = binary.AppendUvarint(b, uint64(h.symbol(d.PreviousLevel)))
			b = binary.AppendUvarint(b, uint64(d.LevelRank))
			if d.Applies {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
			b = appendStr(b, d.EntityHash)
			b = appendStr(b, d.Owner)
			b = binary.AppendUvarint(b, uint64(o))
		default:
			return nil, false
		}
	}
	return b, true
}

// keyAt returns the key of the record at ref, a slice of its page. Every
// record starts with its kind and its key.
func (h *held) keyAt(ref heldRef) []byte {
	b := h.pages[ref.page][ref.off+1:]
	n, w := binary.Uvarint(b)
	return b[w : w+int(n)]
}

// sortByKey sorts the index by the entities' keys. An entity rated twice (in
// creation order, one removed and created again while the pages were read
// is read again at its new place) keeps its last record only: the one rated
// on what was read last.
func (h *held) sortByKey() {
	slices.SortStableFunc(h.index, func(a, b heldRef) int { return bytes.Compare(h.keyAt(a), h.keyAt(b)) })
	out := h.index[:0]
	for i, ref := range h.index {
		if i+1 < len(h.index) && bytes.Equal(h.keyAt(ref), h.keyAt(h.index[i+1])) {
			continue
		}
		out = append(out, ref)
	}
	h.index = out
}

// at returns a reader of the one record ref locates.
func (h *held) at(ref heldRef) heldReader {
	return heldReader{h: h, b: h.pages[ref.page][ref.off:]}
}

// outcomeOf returns the index of d's checks and changed lists, interned, or
// false when they are not interned: more than 64 checks, a check with an
// error, or changed not a subsequence of the checks' ids.
func (h *held) outcomeOf(d *event.BadgeChanged) (int, bool) {
	if len(d.Checks) > 64 {
		return 0, false
	}
	k := outcomeKey{policy: d.Policy, n: len(d.Checks), nilChecks: d.Checks == nil, nilChanged: d.Changed == nil}
	j := 0
	for i, c := range d.Checks {
		if c.Error != "" {
			return 0, false
		}
		if c.Passed {
			k.passed |= 1 << i
		}
		if j < len(d.Changed) && d.Changed[j] == c.ID {
			k.changed |= 1 << i
			j++
		}
	}
	if j != len(d.Changed) {
		return 0, false
	}
	if i, ok := h.outcome[k]; ok {
		o := h.outcomes[i]
		// The same pattern of a policy has the same checks unless the
		// policy's ids, levels or messages differ between entities, which
		// one evaluation's compiled policies do not.
		if (o.checks == nil) == (d.Checks == nil) && (o.changed == nil) == (d.Changed == nil) &&
			slices.Equal(o.checks, d.Checks) && slices.Equal(o.changed, d.Changed) {
			return i, true
		}
		return 0, false
	}
	h.outcome[k] = len(h.outcomes)
	h.outcomes = append(h.outcomes, outcomeSet{checks: d.Checks, changed: d.Changed})
	return len(h.outcomes) - 1, true
}

// symbol returns the index of a short string of which there are few.
func (h *held) symbol(s string) int {
	if i, ok := h.sym[s]; ok {
		return i
	}
	h.sym[s] = len(h.syms)
	h.syms = append(h.syms, s)
	return len(h.syms) - 1
}

// intern returns the index of a facts document.
func (h *held) intern(b []byte) int {
	if i, ok := h.blob[string(b)]; ok {
		return i
	}
	h.blob[string(b)] = len(h.blobs)
	h.blobs = append(h.blobs, b)
	return len(h.blobs) - 1
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// heldReader reads a page's records back.
type heldReader struct {
	h   *held
	b   []byte
	err error
}

func (r *heldReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *heldReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *heldReader) str() string {
	n := r.uvarint()
	if uint64(len(r.b)) < n {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *heldReader) symbol() string {
	i := r.uvarint()
	if i >= uint64(len(r.h.syms)) {
		r.fail()
		return ""
	}
	return r.h.syms[i]
}

func (r *heldReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("badging: held drafts: malformed record")
	}
	r.b = nil
}

// next returns the next entity's key and drafts; false at the page's end
// (or a malformed record: err).
func (r *heldReader) next() (string, []draft, bool) {
	if len(r.b) == 0 || r.err != nil {
		return "", nil, false
	}
	switch r.byte() {
	case heldOdd:
		key := r.str()
		i := r.uvarint()
		if i >= uint64(len(r.h.odd)) {
			r.fail()
			return "", nil, false
		}
		return key, r.h.odd[i], r.err == nil
	case heldCompact:
	default:
		r.fail()
		return "", nil, false
	}
	key := r.str()
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return "", nil, false
	}
	ds := make([]draft, 0, n)
	for range n {
		switch r.byte() {
		case heldFacts:
			f := &event.FactsReported{Entity: r.str(), Source: r.symbol()}
			if i := r.uvarint(); i < uint64(len(r.h.blobs)) {
				f.Facts = r.h.blobs[i]
			} else {
				r.fail()
			}
			f.ObservedAt = r.h.now
			ds = append(ds, draft{f: f})
		case heldBadge:
			t := event.Type(r.symbol())
			d := &event.BadgeChanged{Entity: key, Policy: r.symbol(), Level: r.symbol(), PreviousLevel: r.symbol(), LevelRank: int(r.uvarint())}
			d.Applies = r.byte() == 1
			d.EntityHash, d.Owner = r.str(), r.str()
			if i := r.uvarint(); i < uint64(len(r.h.outcomes)) {
				d.Checks, d.Changed = r.h.outcomes[i].checks, r.h.outcomes[i].changed
			} else {
				r.fail()
			}
			ds = append(ds, draft{d: d, t: t})
		default:
			r.fail()
		}
		if r.err != nil {
			return "", nil, false
		}
	}
	return key, ds, true
}
