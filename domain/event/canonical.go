package event

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// This file is the canonical form of an event's data that Digest hashes: what
// encoding/json writes for the data decoded into an interface value (keys
// sorted and unique, no white space, strings and numbers as json.Marshal
// writes them). canonicalJSON reaches it in one pass over the bytes when the
// data's strings and numbers already are written as json.Marshal writes them,
// as nearly every event's data is (Backlot writes it with json.Marshal), and
// sorts the keys of each object on the way; other data takes the long way, a
// decode and an encode, so both give the same bytes.

// canonicalJSON returns the canonical form of raw, or raw itself when it is
// not JSON.
func canonicalJSON(raw json.RawMessage) []byte {
	s := newCanonScanner(raw)
	defer s.release()
	if s.canonical() {
		return slices.Clone(s.out)
	}
	return slowCanonical(raw)
}

// writeCanonicalJSON writes to w what canonicalJSON returns, preceded by its
// length and a colon, without keeping the canonical form beyond the call.
func writeCanonicalJSON(w io.Writer, raw json.RawMessage) {
	s := newCanonScanner(raw)
	defer s.release()
	var data []byte
	if s.canonical() {
		data = s.out
	} else {
		data = slowCanonical(raw)
	}
	s.prefix = append(strconv.AppendInt(s.prefix[:0], int64(len(data)), 10), ':')
	w.Write(s.prefix)
	w.Write(data)
}

// slowCanonical is the definition of the canonical form: decode, encode.
func slowCanonical(raw json.RawMessage) []byte {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

// fastCanonical copies raw without white space and reports true when the copy
// is exactly what slowCanonical returns: raw is one JSON value whose objects
// have unique keys (written back sorted), whose strings hold only printable ASCII
// that json.Marshal writes unescaped (no backslash, no <, > or &), and whose
// numbers are integers of at most 15 digits, written as json.Marshal writes
// a float64. It reports false, never a wrong answer, for anything else.
func fastCanonical(raw []byte) ([]byte, bool) {
	s := newCanonScanner(raw)
	defer s.release()
	if !s.canonical() {
		return nil, false
	}
	return slices.Clone(s.out), true
}

// maxCanonDepth bounds the nesting fastCanonical follows; deeper data takes
// the long way.
const maxCanonDepth = 100

// canonScanner copies one JSON value into its canonical form. Its buffers are
// kept for the next scanner (canonScanners), so a digest allocates nothing
// for them once warm.
type canonScanner struct {
	JSONScanner
	out []byte
	// members is the stack of the members of the objects being copied.
	members []canonMember
	// region is where sortMembers keeps an object's members while it writes
	// them back in order.
	region []byte
	// prefix is the length writeCanonicalJSON writes before the form.
	prefix []byte
}

// canonScanners keeps the buffers of released scanners.
var canonScanners = sync.Pool{New: func() any { return new(canonScanner) }}

// maxPooledCanon bounds the buffers a released scanner keeps: larger data is
// rare and its buffers go to the garbage collector.
const maxPooledCanon = 64 << 10

// newCanonScanner returns a scanner of raw with empty buffers.
func newCanonScanner(raw []byte) *canonScanner {
	s := canonScanners.Get().(*canonScanner)
	s.JSONScanner = NewJSONScanner(raw)
	if cap(s.out) < len(raw) {
		s.out = make([]byte, 0, len(raw))
	}
	return s
}

// release gives the scanner's buffers to the next one; s must not be used
// after, nor anything it returned.
func (s *canonScanner) release() {
	s.JSONScanner = JSONScanner{}
	if cap(s.out) > maxPooledCanon || cap(s.region) > maxPooledCanon {
		return
	}
	s.out, s.members, s.region = s.out[:0], s.members[:0], s.region[:0]
	canonScanners.Put(s)
}

// canonical copies the scanner's input into s.out and reports whether the
// copy is its canonical form (see fastCanonical).
func (s *canonScanner) canonical() bool {
	if !s.value(0) {
		return false
	}
	s.Space()
	return s.AtEnd()
}

func (s *canonScanner) value(depth int) bool {
	if depth > maxCanonDepth {
		return false
	}
	s.Space()
	c, ok := s.Peek()
	if !ok {
		return false
	}
	switch {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if s.Literal(lit) {
				s.out = append(s.out, lit...)
				return true
			}
		}
		return false
	}
}

func (s *canonScanner) object(depth int) bool {
	open := len(s.out)
	s.out = append(s.out, '{')
	s.Byte('{')
	s.Space()
	if s.Byte('}') {
		s.out = append(s.out, '}')
		return true
	}
	// The members are kept on the scanner's stack: an object nested in a
	// member's value pushes its own above them and pops them on return.
	base := len(s.members)
	defer func() { s.members = s.members[:base] }()
	sorted := true
	for {
		s.Space()
		start := len(s.out)
		keyStart := s.Pos() + 1
		key, ok := s.scanString(false)
		if !ok {
			return false
		}
		if n := len(s.members); n > base && string(key) <= string(s.members[n-1].key(s.Input())) {
			sorted = false
		}
		s.Space()
		if !s.Byte(':') {
			return false
		}
		s.out = append(s.out, ':')
		if !s.value(depth + 1) {
			return false
		}
		s.members = append(s.members, canonMember{keyStart: keyStart, keyEnd: keyStart + len(key), start: start, end: len(s.out)})
		s.Space()
		switch {
		case s.Byte(','):
			s.out = append(s.out, ',')
		case s.Byte('}'):
			if !sorted && !s.sortMembers(open, s.members[base:]) {
				return false
			}
			s.out = append(s.out, '}')
			return true
		default:
			return false
		}
	}
}

// canonMember is one member of an object being copied: where its key lies
// in the input and where the member lies in the output. It holds no
// pointer, so the stack of members costs the garbage collector nothing.
type canonMember struct {
	keyStart, keyEnd int
	start, end       int
}

// key returns the member's key in in, the scanner's input.
func (m canonMember) key(in []byte) []byte { return in[m.keyStart:m.keyEnd] }

// sortMembers rewrites the members of the object opened at out[open] in the
// order of their keys, as json.Marshal writes a map. It reports false when a
// key repeats (the decode would keep the last).
func (s *canonScanner) sortMembers(open int, members []canonMember) bool {
	in := s.Input()
	slices.SortStableFunc(members, func(a, b canonMember) int { return bytes.Compare(a.key(in), b.key(in)) })
	for i := 1; i < len(members); i++ {
		if bytes.Equal(members[i].key(in), members[i-1].key(in)) {
			return false
		}
	}
	s.region = append(s.region[:0], s.out[open+1:]...)
	region := s.region
	s.out = s.out[:open+1]
	for i, m := range members {
		if i > 0 {
			s.out = append(s.out, ',')
		}
		s.out = append(s.out, region[m.start-open-1:m.end-open-1]...)
	}
	return true
}

func (s *canonScanner) array(depth int) bool {
	s.out = append(s.out, '[')
	s.Byte('[')
	s.Space()
	if s.Byte(']') {
		s.out = append(s.out, ']')
		return true
	}
	for {
		if !s.value(depth + 1) {
			return false
		}
		s.Space()
		switch {
		case s.Byte(','):
			s.out = append(s.out, ',')
		case s.Byte(']'):
			s.out = append(s.out, ']')
			return true
		default:
			return false
		}
	}
}

// str copies a string that json.Marshal writes back byte for byte, and
// returns its contents as they stand in the input: printable ASCII it writes
// unescaped, valid UTF-8 beyond ASCII but for U+2028 and U+2029 (which it
// escapes), and the escapes it writes itself, \n \r \t \" and \\ (an
// API's definition is text of many lines). An object key takes no escape, so
// keys sort by their bytes as json.Marshal sorts the decoded ones.
func (s *canonScanner) str() ([]byte, bool) { return s.scanString(true) }

func (s *canonScanner) scanString(escapes bool) ([]byte, bool) {
	start := s.Pos()
	text, traits, ok := s.ReadString()
	if !ok || !marshalsAsIs(text, traits, escapes) {
		return nil, false
	}
	s.out = append(s.out, s.Input()[start:s.Pos()]...)
	return text, true
}

// marshalsAsIs reports whether json.Marshal writes the string whose contents
// (as ReadString returns them) are text back as text: no <, > or & and no
// DEL, valid UTF-8 but for U+2028 and U+2029, and, when escapes is set, no
// escape but \n \r \t \" and \\ (with escapes unset, none at all).
func marshalsAsIs(text []byte, traits StringTraits, escapes bool) bool {
	switch {
	case traits == 0:
		return true
	case traits&StringMarkup != 0, traits&StringEscaped != 0 && !escapes:
		return false
	}
	for j := 0; j < len(text); {
		switch c := text[j]; {
		case c == '\\':
			switch text[j+1] { // ReadString saw a whole escape
			case 'n', 'r', 't', '"', '\\':
				j += 2
			default:
				return false
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(text[j:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return false
			}
			j += size
		default:
			j++
		}
	}
	return true
}

// number copies an integer of at most 15 digits without a leading zero (and
// not -0): a float64 holds it exactly and json.Marshal writes it the same.
func (s *canonScanner) number() bool {
	in, i := s.Input(), s.Pos()
	j := i
	if in[j] == '-' {
		j++
	}
	digits := j
	for j < len(in) && in[j] >= '0' && in[j] <= '9' {
		j++
	}
	n := j - digits
	switch {
	case n == 0 || n > 15:
		return false
	case in[digits] == '0' && (n > 1 || digits > i):
		return false // a leading zero, or -0
	}
	if j < len(in) {
		switch in[j] {
		case '.', 'e', 'E':
			return false
		}
	}
	s.out = append(s.out, in[i:j]...)
	s.Seek(j)
	return true
}
