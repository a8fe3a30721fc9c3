package catalog

import "bytes"

// decodeSimple decodes a document written in the plain block style most
// descriptor files use, without building a YAML node tree: block mappings
// and sequences, single-line plain and single-quoted scalars that read as
// strings, "[]" and "{}", and literal blocks ("|") without blank lines. It
// gives the body and node count decodeDocument's YAML path gives for the
// same text (so the same limits apply), and ok false for any text outside
// that subset, over a limit, or that the YAML path would refuse or read
// otherwise (a number, a boolean, null spelled out, a duplicate key, a tab,
// a byte outside printable ASCII): its caller then decodes it with the YAML
// path.
func decodeSimple(text []byte, lim Limits) (map[string]any, int, bool) {
	for _, b := range text {
		if (b < 0x20 && b != '\n') || b > 0x7e {
			return nil, 0, false
		}
	}
	p := simpleParser{text: text, maxNodes: lim.MaxNodes, maxDepth: lim.MaxDepth}
	ind, rest, ok := p.peek()
	if !ok || ind != 0 {
		return nil, 0, false
	}
	k, after, isKey := simpleKey(rest)
	if !isKey {
		return nil, 0, false
	}
	p.advance()
	// The root mapping is a node at depth 0, its values at depth 1.
	if !p.count(0) {
		return nil, 0, false
	}
	m, ok := p.mapping(k, after, 0, 0)
	if !ok {
		return nil, 0, false
	}
	if _, _, more := p.peek(); more {
		return nil, 0, false
	}
	return m, p.nodes, true
}

// simpleParser reads the lines of a document one at a time (decodeSimple).
type simpleParser struct {
	text     []byte
	pos      int // offset of the next line to read
	line     []byte
	next     int // offset after the line peek found
	nodes    int
	maxNodes int
	maxDepth int
}

// peek finds the next line that is neither blank nor a comment, from pos,
// and returns its indentation and its text after it; ok is false at the end.
// advance consumes it.
func (p *simpleParser) peek() (indent int, rest []byte, ok bool) {
	for p.pos < len(p.text) {
		line, next := p.lineAt(p.pos)
		i := 0
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) || line[i] == '#' {
			p.pos = next
			continue
		}
		p.line, p.next = line, next
		return i, line[i:], true
	}
	return 0, nil, false
}

func (p *simpleParser) advance() { p.pos = p.next }

// lineAt returns the line that starts at offset at, without its newline,
// and the offset of the line after it.
func (p *simpleParser) lineAt(at int) ([]byte, int) {
	if i := bytes.IndexByte(p.text[at:], '\n'); i >= 0 {
		return p.text[at : at+i], at + i + 1
	}
	return p.text[at:], len(p.text)
}

// count counts one more node at depth, as decodeDocument's converter does,
// and reports whether the limits still hold.
func (p *simpleParser) count(depth int) bool {
	p.nodes++
	return p.nodes <= p.maxNodes && depth <= p.maxDepth
}

// mapping reads a block mapping whose keys stand at indent, at depth, whose
// first key (already consumed) is key with after the text after its colon.
func (p *simpleParser) mapping(key string, after []byte, indent, depth int) (map[string]any, bool) {
	out := make(map[string]any, 8)
	for {
		if _, dup := out[key]; dup {
			return nil, false
		}
		v, ok := p.value(after, indent, depth+1)
		if !ok {
			return nil, false
		}
		out[key] = v
		ind, rest, more := p.peek()
		if !more || ind < indent {
			return out, true
		}
		if ind > indent {
			return nil, false
		}
		if isSeqItem(rest) {
			// A sequence at the keys' indent ends the mapping only when it
			// is a key's value, which value has read.
			return nil, false
		}
		var isKey bool
		key, after, isKey = simpleKey(rest)
		if !isKey {
			return nil, false
		}
		p.advance()
	}
}

// value reads the value of a mapping key at indent whose text after the
// colon is after, at depth.
func (p *simpleParser) value(after []byte, indent, depth int) (any, bool) {
	if !p.count(depth) {
		return nil, false
	}
	if len(after) == 0 {
		ind, rest, more := p.peek()
		switch {
		case !more || ind < indent || (ind == indent && !isSeqItem(rest)):
			return nil, true
		case isSeqItem(rest):
			return p.sequence(ind, depth)
		}
		k, a, isKey := simpleKey(rest)
		if !isKey {
			return nil, false
		}
		p.advance()
		return p.mapping(k, a, ind, depth)
	}
	if len(after) == 1 && after[0] == '|' {
		return p.literal(indent)
	}
	return simpleScalar(after)
}

// sequence reads a block sequence whose items start at indent, at depth.
func (p *simpleParser) sequence(indent, depth int) (any, bool) {
	out := make([]any, 0, 4)
	for {
		ind, rest, more := p.peek()
		if !more || ind < indent || (ind == indent && !isSeqItem(rest)) {
			return out, true
		}
		if ind > indent {
			return nil, false
		}
		p.advance()
		if !p.count(depth + 1) {
			return nil, false
		}
		s := 1
		for s < len(rest) && rest[s] == ' ' {
			s++
		}
		item := rest[s:]
		if len(item) == 0 || isSeqItem(item) {
			return nil, false
		}
		if k, a, isKey := simpleKey(item); isKey {
			m, ok := p.mapping(k, a, indent+s, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, m)
			continue
		}
		v, ok := simpleScalar(item)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
}

// literal reads the lines of a literal block ("|", clipped) that is the
// value of a key at indent: the lines indented deeper than the key, up to
// the first line indented less than the block's first; a blank line in it
// is left to the YAML path.
func (p *simpleParser) literal(indent int) (any, bool) {
	var buf []byte
	content := -1
	at := p.pos
	for at < len(p.text) {
		line, next := p.lineAt(at)
		i := 0
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return nil, false
		}
		if content < 0 {
			if i <= indent {
				return nil, false
			}
			content = i
		} else if i < content {
			break
		}
		if next == len(p.text) && p.text[len(p.text)-1] != '\n' {
			// The YAML path's clipped block keeps a last line break only
			// when the text has one.
			return nil, false
		}
		buf = append(buf, line[content:]...)
		buf = append(buf, '\n')
		at = next
	}
	if content < 0 {
		return nil, false
	}
	p.pos = at
	return string(buf), true
}

// isSeqItem reports whether a line's text (after its indentation) starts a
// sequence item.
func isSeqItem(rest []byte) bool {
	return len(rest) > 0 && rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ')
}

// simpleKey reads a mapping key at the start of text: a plain key of
// letters, digits and "_./$-" not starting with "-" or ".", or a
// single-quoted key without quotes inside, followed by ":" and the end of
// the line or a space; after is the text after the colon and its spaces.
func simpleKey(text []byte) (key string, after []byte, ok bool) {
	var end, next int
	if len(text) > 0 && text[0] == '\'' {
		i := bytes.IndexByte(text[1:], '\'')
		if i < 0 {
			return "", nil, false
		}
		if i > maxSimpleKey {
			return "", nil, false
		}
		end = 1 + i
		key = string(text[1:end])
		next = end + 1
	} else {
		i := 0
		for i < len(text) && keyByte(text[i]) {
			i++
		}
		if i == 0 || i > maxSimpleKey || text[0] == '-' || text[0] == '.' {
			return "", nil, false
		}
		key = string(text[:i])
		next = i
	}
	if next >= len(text) || text[next] != ':' {
		return "", nil, false
	}
	rest := text[next+1:]
	if len(rest) == 0 {
		return key, rest, true
	}
	if rest[0] != ' ' {
		return "", nil, false
	}
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == '#' {
		return "", nil, false
	}
	return key, rest, true
}

// maxSimpleKey bounds a key's length: YAML refuses an implicit key over
// 1,024 characters, and a longer key is left to the YAML path to refuse.
const maxSimpleKey = 1000

func keyByte(b byte) bool {
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
		b == '_' || b == '.' || b == '/' || b == '$' || b == '-'
}

// simpleScalar reads a one-line scalar that reads as a string: "[]" and
// "{}", a single-quoted text without quotes inside, or a plain text that
// starts with a letter, one of "_/$(", "./" or "..", and is none of YAML's words for
// true, false and null, holds no ": " nor " #", and ends in neither ":"
// nor a space.
func simpleScalar(text []byte) (any, bool) {
	switch {
	case len(text) == 0:
		return nil, false
	case string(text) == "[]":
		return []any{}, true
	case string(text) == "{}":
		return map[string]any{}, true
	case text[0] == '\'':
		if len(text) < 2 || text[len(text)-1] != '\'' || bytes.IndexByte(text[1:len(text)-1], '\'') >= 0 {
			return nil, false
		}
		return string(text[1 : len(text)-1]), true
	}
	c := text[0]
	// "./" and "../" start relative paths, never a float.
	path := c == '.' && len(text) > 1 && (text[1] == '/' || text[1] == '.')
	if !path && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '/' || c == '$' || c == '(') {
		return nil, false
	}
	last := text[len(text)-1]
	if last == ':' || last == ' ' || bytes.Contains(text, []byte(": ")) || bytes.Contains(text, []byte(" #")) {
		return nil, false
	}
	switch string(bytes.ToLower(text)) {
	case "true", "false", "null":
		return nil, false
	}
	return string(text), true
}
