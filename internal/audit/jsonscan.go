package audit

import (
	"bytes"

	"backlot.dev/backlot/domain/event"
)

// This file reads the few top-level members of an event's data that a replay
// needs to key and choose (an upsert's uid, hash and entity body) without
// decoding the rest. It reports false for anything it does not read exactly as
// encoding/json would, and the caller then decodes with encoding/json.

// upsertFields returns the uid and hash strings and the raw entity value of
// an EntityUpserted's data. ok is false when the data is not an object of
// plain members: a key or string with an escape, a key that differs from
// "uid", "hash" or "entity" only in case (encoding/json would match it), a
// uid or hash that is not a string, or bytes the scanner does not follow.
func upsertFields(raw []byte) (uid, hash string, entity []byte, ok bool) {
	s := scanner{event.NewJSONScanner(raw)}
	s.Space()
	if !s.Byte('{') {
		return "", "", nil, false
	}
	s.Space()
	if s.Byte('}') {
		return "", "", nil, true
	}
	for {
		s.Space()
		key, ok := s.plainString()
		if !ok {
			return "", "", nil, false
		}
		s.Space()
		if !s.Byte(':') {
			return "", "", nil, false
		}
		s.Space()
		start := s.Pos()
		switch {
		case string(key) == "uid" || string(key) == "hash":
			v, ok := s.plainString()
			if !ok {
				return "", "", nil, false
			}
			if string(key) == "uid" {
				uid = string(v)
			} else {
				hash = string(v)
			}
		case bytes.EqualFold(key, []byte("uid")) || bytes.EqualFold(key, []byte("hash")) || bytes.EqualFold(key, []byte("entity")) && string(key) != "entity":
			return "", "", nil, false
		default:
			if !s.skip(0) {
				return "", "", nil, false
			}
			if string(key) == "entity" {
				entity = raw[start:s.Pos()]
			}
		}
		s.Space()
		if s.Byte('}') {
			s.Space()
			return uid, hash, entity, s.AtEnd()
		}
		if !s.Byte(',') {
			return "", "", nil, false
		}
	}
}

// scanner reads an upsert's data for upsertFields.
type scanner struct{ event.JSONScanner }

// plainString reads a string without escapes or control characters and
// returns its contents.
func (s *scanner) plainString() ([]byte, bool) {
	text, traits, ok := s.ReadString()
	if !ok || traits&event.StringEscaped != 0 {
		return nil, false
	}
	return text, true
}

// maxSkipDepth bounds the nesting skip follows.
const maxSkipDepth = 200

// skip passes over one value: a string (escapes allowed, and not checked),
// an object, an array, or a literal or number (the bytes up to the next
// delimiter).
func (s *scanner) skip(depth int) bool {
	c, ok := s.Peek()
	if depth > maxSkipDepth || !ok {
		return false
	}
	switch c {
	case '"':
		in, i := s.Input(), s.Pos()+1
		for i < len(in) {
			switch c := in[i]; {
			case c == '"':
				s.Seek(i + 1)
				return true
			case c == '\\':
				i += 2
			case c < 0x20:
				return false
			default:
				i++
			}
		}
		return false
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.Byte(c)
		s.Space()
		if s.Byte(closer) {
			return true
		}
		for {
			s.Space()
			if closer == '}' {
				if c, ok := s.Peek(); !ok || c != '"' || !s.skip(depth+1) {
					return false
				}
				s.Space()
				if !s.Byte(':') {
					return false
				}
				s.Space()
			}
			if !s.skip(depth + 1) {
				return false
			}
			s.Space()
			if s.Byte(closer) {
				return true
			}
			if !s.Byte(',') {
				return false
			}
		}
	default:
		in, start := s.Input(), s.Pos()
		i := start
		for i < len(in) {
			switch in[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				s.Seek(i)
				return i > start
			}
			i++
		}
		s.Seek(i)
		return i > start
	}
}
