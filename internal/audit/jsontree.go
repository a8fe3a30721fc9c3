package audit

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"backlot.dev/backlot/domain/event"
)

// This file reads an entity body's JSON into a flat tree whose strings are
// views of the input, so that the body can be written as YAML, and its
// relations read, without building the maps and strings that decoding it
// costs. It reads only what it reads exactly as encoding/json does (and so
// as catalog.DecodeJSONObject does): strings in valid UTF-8 (those with
// escapes decoded by encoding/json itself), objects without repeated keys,
// numbers as float64; on anything else parse reports false and the caller
// decodes the body the usual way.

// Kinds of a jsonNode.
const (
	nodeObject byte = iota + 1
	nodeArray
	nodeString
	nodeNumber
	nodeTrue
	nodeFalse
	nodeNull
)

// jsonNode is one value of a jsonTree.
type jsonNode struct {
	typ byte
	// key is the member name of a value in an object.
	key string
	// str is a string's value.
	str string
	// num is a number's value.
	num float64
	// first and n are the children of an object (in yaml.v3's key order)
	// or an array: kids[first : first+n].
	first, n int32
}

// jsonTree is a parsed JSON value: nodes[0] is the root. Its strings share
// the input's memory: the tree is valid only as long as the input is
// unchanged. A jsonTree is reused from body to body by one goroutine.
type jsonTree struct {
	nodes []jsonNode
	kids  []int32
	stack []int32
	s     event.JSONScanner
}

// maxTreeDepth bounds the nesting parse follows.
const maxTreeDepth = 200

// view is a string that shares b's memory. The tree's strings are views of
// its input, which the caller keeps unchanged while it reads the tree;
// strings that outlive it are copied (strings.Clone).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parse reads raw, which must be a JSON object, into the tree. It reports
// false for what it does not read exactly as encoding/json would.
func (t *jsonTree) parse(raw []byte) bool {
	t.nodes, t.kids, t.stack = t.nodes[:0], t.kids[:0], t.stack[:0]
	t.s = event.NewJSONScanner(raw)
	t.s.Space()
	if c, ok := t.s.Peek(); !ok || c != '{' {
		return false
	}
	if _, ok := t.value(0); !ok {
		return false
	}
	t.s.Space()
	return t.s.AtEnd()
}

// children returns node i's children.
func (t *jsonTree) children(i int32) []int32 {
	n := &t.nodes[i]
	return t.kids[n.first : n.first+n.n]
}

// member returns the child of object node i named key, or -1.
func (t *jsonTree) member(i int32, key string) int32 {
	if t.nodes[i].typ != nodeObject {
		return -1
	}
	for _, k := range t.children(i) {
		if t.nodes[k].key == key {
			return k
		}
	}
	return -1
}

// value reads the value at the scanner into a new node and returns its index.
func (t *jsonTree) value(depth int) (int32, bool) {
	s := &t.s
	s.Space()
	c, ok := s.Peek()
	if !ok || depth > maxTreeDepth {
		return 0, false
	}
	idx := int32(len(t.nodes))
	t.nodes = append(t.nodes, jsonNode{})
	switch {
	case c == '{':
		return idx, t.object(idx, depth)
	case c == '[':
		return idx, t.array(idx, depth)
	case c == '"':
		str, ok := t.str()
		t.nodes[idx] = jsonNode{typ: nodeString, str: str}
		return idx, ok
	case c == '-' || c >= '0' && c <= '9':
		f, ok := t.number()
		t.nodes[idx] = jsonNode{typ: nodeNumber, num: f}
		return idx, ok
	case c == 't':
		t.nodes[idx].typ = nodeTrue
		return idx, s.Literal("true")
	case c == 'f':
		t.nodes[idx].typ = nodeFalse
		return idx, s.Literal("false")
	case c == 'n':
		t.nodes[idx].typ = nodeNull
		return idx, s.Literal("null")
	}
	return 0, false
}

// str reads a string in valid UTF-8: a view of the input when it has no
// escapes, else its value decoded as encoding/json decodes it.
func (t *jsonTree) str() (string, bool) {
	at := t.s.Pos()
	text, traits, ok := t.s.ReadString()
	if !ok || traits&event.StringNonASCII != 0 && !utf8.Valid(text) {
		return "", false
	}
	if traits&event.StringEscaped == 0 {
		return view(text), true
	}
	if s, ok := unescape(text); ok {
		return s, true
	}
	var s string
	if err := json.Unmarshal(t.s.Input()[at:t.s.Pos()], &s); err != nil {
		return "", false
	}
	return s, true
}

// unescape decodes the contents of a JSON string with escapes, in valid
// UTF-8 and without control characters (as ReadString reads it), as
// encoding/json decodes it: a surrogate pair of \u escapes is one rune, a
// lone surrogate U+FFFD. It reports false for what it does not read (a
// malformed escape), which it leaves to encoding/json. It allocates the
// string alone: encoding/json's Unmarshal of each string of a body with
// escapes (an ampersand or a line break written by encoding/json) was 0.2
// CPU-s of the 100k replay.
func unescape(text []byte) (string, bool) {
	b := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		c := text[i]
		if c != '\\' {
			j := i + 1
			for j < len(text) && text[j] != '\\' {
				j++
			}
			b = append(b, text[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(text) {
			return "", false
		}
		switch text[i+1] {
		case '"', '\\', '/':
			b = append(b, text[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(text[i+2:])
			if r < 0 {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if r2 := hex4Escape(text[i+6:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						i += 12
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(b), true
}

// hex4 is the value of the four hexadecimal digits p begins with, or -1.
func hex4(p []byte) rune {
	if len(p) < 4 {
		return -1
	}
	var r rune
	for _, c := range p[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// hex4Escape is the value of the \u escape p begins with, or -1.
func hex4Escape(p []byte) rune {
	if len(p) < 6 || p[0] != '\\' || p[1] != 'u' {
		return -1
	}
	return hex4(p[2:])
}

// number reads a number in JSON's grammar as encoding/json does.
func (t *jsonTree) number() (float64, bool) {
	at := t.s.Pos()
	text, ok := t.s.Number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(view(text), 64)
	if err != nil {
		t.s.Seek(at)
		return 0, false
	}
	return f, true
}

// object reads an object into node idx, its members sorted in yaml.v3's key
// order; a repeated key reports false.
func (t *jsonTree) object(idx int32, depth int) bool {
	s := &t.s
	s.Byte('{')
	base := len(t.stack)
	s.Space()
	if !s.Byte('}') {
		for {
			s.Space()
			key, ok := t.str()
			if !ok {
				return false
			}
			s.Space()
			if !s.Byte(':') {
				return false
			}
			k, ok := t.value(depth + 1)
			if !ok {
				return false
			}
			t.nodes[k].key = key
			t.stack = append(t.stack, k)
			s.Space()
			if s.Byte('}') {
				break
			}
			if !s.Byte(',') {
				return false
			}
		}
	}
	if !t.sortMembers(t.stack[base:]) {
		return false
	}
	t.close(idx, nodeObject, base)
	return true
}

// sortMembers sorts an object's members by key in yaml.v3's order (an
// insertion sort: canonical JSON's byte order is nearly that order) and
// reports false when a key repeats.
func (t *jsonTree) sortMembers(m []int32) bool {
	for i := 1; i < len(m); i++ {
		x := m[i]
		kx := t.nodes[x].key
		j := i
		for ; j > 0; j-- {
			ky := t.nodes[m[j-1]].key
			if ky == kx {
				return false
			}
			if !keyLess(kx, ky) {
				break
			}
			m[j] = m[j-1]
		}
		m[j] = x
		if j > 0 && t.nodes[m[j-1]].key == kx {
			return false
		}
	}
	return true
}

// array reads an array into node idx.
func (t *jsonTree) array(idx int32, depth int) bool {
	s := &t.s
	s.Byte('[')
	base := len(t.stack)
	s.Space()
	if !s.Byte(']') {
		for {
			k, ok := t.value(depth + 1)
			if !ok {
				return false
			}
			t.stack = append(t.stack, k)
			s.Space()
			if s.Byte(']') {
				break
			}
			if !s.Byte(',') {
				return false
			}
		}
	}
	t.close(idx, nodeArray, base)
	return true
}

// close makes the stack's entries from base node idx's children.
func (t *jsonTree) close(idx int32, typ byte, base int) {
	n := &t.nodes[idx]
	n.typ, n.first, n.n = typ, int32(len(t.kids)), int32(len(t.stack)-base)
	t.kids = append(t.kids, t.stack[base:]...)
	t.stack = t.stack[:base]
}
