package event

import (
	"bytes"
	"encoding/json"
	"slices"
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
	if out, ok := fastCanonical(raw); ok {
		return out
	}
	return slowCanonical(raw)
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
	s := canonScanner{JSONScanner: NewJSONScanner(raw), out: make([]byte, 0, len(raw))}
	if !s.value(0) {
		return nil, false
	}
	s.Space()
	if !s.AtEnd() {
		return nil, false
	}
	return s.out, true
}

// maxCanonDepth bounds the nesting fastCanonical follows; deeper data takes
// the long way.
const maxCanonDepth = 100

type canonScanner struct {
	JSONScanner
	out []byte
	// members is the stack of the members of the objects being copied.
	members []canonMember
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
		key, ok := s.scanString(false)
		if !ok {
			return false
		}
		if n := len(s.members); n > base && string(key) <= string(s.members[n-1].key) {
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
		s.members = append(s.members, canonMember{key: key, start: start, end: len(s.out)})
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

// canonMember is one member of an object being copied: its key and where it
// lies in the output.
type canonMember struct {
	key        []byte
	start, end int
}

// sortMembers rewrites the members of the object opened at out[open] in the
// order of their keys, as json.Marshal writes a map. It reports false when a
// key repeats (the decode would keep the last).
func (s *canonScanner) sortMembers(open int, members []canonMember) bool {
	slices.SortStableFunc(members, func(a, b canonMember) int { return bytes.Compare(a.key, b.key) })
	for i := 1; i < len(members); i++ {
		if bytes.Equal(members[i].key, members[i-1].key) {
			return false
		}
	}
	region := slices.Clone(s.out[open+1:])
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
