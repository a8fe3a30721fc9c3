package catalogstore

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"backlot.dev/backlot/domain/event"
)

// This file reads the JSON of the events a replay folds most (upserts of
// the newest version) and writes the stored bodies of their entities straight
// from the event's bytes, without reflection and without encoding a body map
// again. Each function answers whether it could; anything it does not read
// plainly goes to the general path (event.Envelope.Decode, StoredBody and
// catalog.EncodeJSON), so results and errors are the general path's, byte for
// byte.

// decodeUpsertData reads the data of a backlot.entity.upserted.v1 event as
// json.Unmarshal reads it into event.EntityUpserted, when it is an object
// whose keys are exactly the payload's string fields and entity (an object),
// with strings free of escapes and control characters, in valid UTF-8. Entity
// shares data's bytes and is not validated: the caller decodes it, and with
// it valid, so is data. ok is false for anything else (a commit, an unknown
// key, escapes, a repeated entity, invalid JSON), which the caller decodes with
// json.Unmarshal.
func decodeUpsertData(data []byte) (d event.EntityUpserted, ok bool) {
	s := scanner{event.NewJSONScanner(data)}
	s.Space()
	if !s.Byte('{') {
		return d, false
	}
	s.Space()
	if s.Byte('}') {
		return d, false // no entity
	}
	for {
		s.Space()
		k, ok := s.str()
		if !ok {
			return d, false
		}
		s.Space()
		if !s.Byte(':') {
			return d, false
		}
		s.Space()
		var field *string
		switch k {
		case "ref":
			field = &d.Ref
		case "uid":
			field = &d.UID
		case "hash":
			field = &d.Hash
		case "locationId":
			field = &d.LocationID
		case "managedBy":
			field = &d.ManagedBy
		case "originLocation":
			field = &d.OriginLocation
		case "entity":
			if d.Entity != nil {
				return d, false // a repeated entity: json.Unmarshal validates the one it drops
			}
			start := s.Pos()
			if !s.skipObject() {
				return d, false
			}
			end := s.Pos()
			d.Entity = json.RawMessage(data[start:end:end])
		default:
			return d, false
		}
		if field != nil {
			v, ok := s.str()
			if !ok {
				return d, false
			}
			*field = v
		}
		s.Space()
		if s.Byte(',') {
			continue
		}
		if !s.Byte('}') {
			return d, false
		}
		s.Space()
		return d, s.AtEnd() && d.Entity != nil
	}
}

// scanner reads an upsert's data for decodeUpsertData.
type scanner struct{ event.JSONScanner }

// str reads a string without escapes or control characters, in valid UTF-8.
func (s *scanner) str() (string, bool) {
	text, traits, ok := s.ReadString()
	if !ok || traits&event.StringEscaped != 0 || traits&event.StringNonASCII != 0 && !utf8.Valid(text) {
		return "", false
	}
	return string(text), true
}

// skipObject moves past an object by its brackets, strings skipped whole; it
// does not validate what it skips (the body's decoder does).
func (s *scanner) skipObject() bool {
	in, i := s.Input(), s.Pos()
	if i >= len(in) || in[i] != '{' {
		return false
	}
	depth := 0
	for i < len(in) {
		switch in[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.Seek(i + 1)
				return true
			}
		case '"':
			i++
			for i < len(in) && in[i] != '"' {
				if in[i] == '\\' {
					i++
				}
				i++
			}
		}
		i++
	}
	return false
}

// span is a member of an object: the text of its key (without quotes) and
// of its value, as offsets into the scanned text.
type span struct{ key, val [2]int }

// canonical reports whether raw is exactly what catalog.EncodeJSON writes
// for the value DecodeJSONObject reads from it: no space, the keys of each
// object unique and in ascending byte order, strings of printable ASCII that
// need no escape, numbers as EncodeJSON formats a float64. top receives the
// members of the outer object and meta those of its metadata object.
func canonical(raw []byte, top, meta *[]span) bool {
	c := canon{event.NewJSONScanner(raw)}
	return c.object(0, top, meta) && c.AtEnd()
}

type canon struct{ event.JSONScanner }

// maxCanonicalDepth bounds the nesting canonical follows; deeper text takes
// the general path.
const maxCanonicalDepth = 64

func (c *canon) value(depth int) bool {
	b, ok := c.Peek()
	if !ok {
		return false
	}
	switch {
	case b == '{':
		return c.object(depth+1, nil, nil)
	case b == '[':
		return c.array(depth + 1)
	case b == '"':
		_, ok := c.str()
		return ok
	case b == 't':
		return c.Literal("true")
	case b == 'f':
		return c.Literal("false")
	case b == 'n':
		return c.Literal("null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	}
	return false
}

// str reads a string EncodeJSON writes as it is, returning the offsets of its text.
func (c *canon) str() ([2]int, bool) {
	start := c.Pos() + 1
	_, traits, ok := c.ReadString()
	if !ok || traits != 0 {
		return [2]int{}, false
	}
	return [2]int{start, c.Pos() - 1}, true
}

func (c *canon) number() bool {
	in, i := c.Input(), c.Pos()
	j := i
	for j < len(in) {
		b := in[j]
		if (b < '0' || b > '9') && b != '-' && b != '+' && b != '.' && b != 'e' && b != 'E' {
			break
		}
		j++
	}
	text := in[i:j]
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return false
	}
	abs := f
	if abs < 0 {
		abs = -abs
	}
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return false // EncodeJSON hands these to json.Marshal
	}
	var buf [32]byte
	if !bytes.Equal(strconv.AppendFloat(buf[:0], f, 'f', -1, 64), text) {
		return false
	}
	c.Seek(j)
	return true
}

func (c *canon) array(depth int) bool {
	if depth > maxCanonicalDepth {
		return false
	}
	c.Byte('[')
	if c.Byte(']') {
		return true
	}
	for {
		if !c.value(depth) {
			return false
		}
		switch {
		case c.Byte(','):
		case c.Byte(']'):
			return true
		default:
			return false
		}
	}
}

// object reads an object; members, when set, receives its members, and
// meta those of its member "metadata", which must then be an object.
func (c *canon) object(depth int, members, meta *[]span) bool {
	if depth > maxCanonicalDepth || !c.Byte('{') {
		return false
	}
	if c.Byte('}') {
		return meta == nil
	}
	in := c.Input()
	var prev []byte
	sawMeta := false
	for {
		k, ok := c.str()
		if !ok {
			return false
		}
		key := in[k[0]:k[1]]
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			return false // out of order or repeated: EncodeJSON would write it otherwise
		}
		prev = key
		if !c.Byte(':') {
			return false
		}
		start := c.Pos()
		if meta != nil && string(key) == "metadata" {
			sawMeta = true
			if !c.object(depth+1, meta, nil) {
				return false
			}
		} else if !c.value(depth) {
			return false
		}
		if members != nil {
			*members = append(*members, span{key: k, val: [2]int{start, c.Pos()}})
		}
		switch {
		case c.Byte(','):
		case c.Byte('}'):
			return meta == nil || sawMeta
		default:
			return false
		}
	}
}

// plainString says whether EncodeJSON writes s between quotes as it is.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			return false
		}
	}
	return true
}

// storedJSON writes the stored body of an entity whose canonical JSON is raw
// (StoredBody encoded by EncodeJSON): raw without the outer members relations
// and status, with metadata.etag and metadata.uid set. ok is false when raw
// is not canonical (see canonical), when uid or the etag would need escapes,
// or when its metadata.namespace is missing or empty (the entity's body then
// gains one); the caller then encodes StoredBody.
func storedJSON(raw []byte, uid, hash string) ([]byte, bool) {
	var topBuf, metaBuf [16]span
	top, meta := topBuf[:0], metaBuf[:0]
	if !canonical(raw, &top, &meta) || !plainString(uid) {
		return nil, false
	}
	hasNS := false
	for _, m := range meta {
		if string(raw[m.key[0]:m.key[1]]) == "namespace" {
			v := raw[m.val[0]:m.val[1]]
			hasNS = len(v) > 2 && v[0] == '"'
		}
	}
	if !hasNS {
		return nil, false
	}
	tag := etag(hash, uid)
	out := make([]byte, 0, len(raw)+len(uid)+len(tag)+32)
	out = append(out, '{')
	first := true
	for _, m := range top {
		key := string(raw[m.key[0]:m.key[1]])
		switch key {
		case "relations", "status":
			continue
		case "metadata":
			out = appendMember(out, &first, key, nil, false)
			out = append(out, '{')
			inner := true
			added := [2][2]string{{"etag", tag}, {"uid", uid}} // in key order
			next := 0
			for _, mm := range meta {
				k := string(raw[mm.key[0]:mm.key[1]])
				replaced := false
				for next < len(added) && added[next][0] <= k {
					out = appendMember(out, &inner, added[next][0], []byte(added[next][1]), true)
					replaced = replaced || added[next][0] == k
					next++
				}
				if !replaced {
					out = appendMember(out, &inner, k, raw[mm.val[0]:mm.val[1]], false)
				}
			}
			for ; next < len(added); next++ {
				out = appendMember(out, &inner, added[next][0], []byte(added[next][1]), true)
			}
			out = append(out, '}')
		default:
			out = appendMember(out, &first, key, raw[m.val[0]:m.val[1]], false)
		}
	}
	out = append(out, '}')
	return out, true
}

// appendMember appends an object member "key":val (val quoted when quote),
// after a comma unless *first, which it clears; key and a quoted val need no
// escapes.
func appendMember(out []byte, first *bool, key string, val []byte, quote bool) []byte {
	if !*first {
		out = append(out, ',')
	}
	*first = false
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, '"', ':')
	if quote {
		out = append(out, '"')
		out = append(out, val...)
		return append(out, '"')
	}
	return append(out, val...)
}
