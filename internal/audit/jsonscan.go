package audit

import "bytes"

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
	s := scanner{in: raw}
	s.space()
	if !s.byte('{') {
		return "", "", nil, false
	}
	s.space()
	if s.byte('}') {
		return "", "", nil, true
	}
	for {
		s.space()
		key, ok := s.plainString()
		if !ok {
			return "", "", nil, false
		}
		s.space()
		if !s.byte(':') {
			return "", "", nil, false
		}
		s.space()
		start := s.i
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
				entity = raw[start:s.i]
			}
		}
		s.space()
		if s.byte('}') {
			s.space()
			return uid, hash, entity, s.i == len(s.in)
		}
		if !s.byte(',') {
			return "", "", nil, false
		}
	}
}

// scanner walks JSON bytes.
type scanner struct {
	in []byte
	i  int
}

func (s *scanner) space() {
	for s.i < len(s.in) {
		switch s.in[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c when it is next.
func (s *scanner) byte(c byte) bool {
	if s.i < len(s.in) && s.in[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string without escapes or control characters and
// returns its contents.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.in) {
		c := s.in[s.i]
		switch {
		case c == '"':
			s.i++
			return s.in[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// maxSkipDepth bounds the nesting skip follows.
const maxSkipDepth = 200

// skip passes over one value: a string (escapes allowed), an object, an
// array, or a literal or number (the bytes up to the next delimiter).
func (s *scanner) skip(depth int) bool {
	if depth > maxSkipDepth || s.i >= len(s.in) {
		return false
	}
	switch s.in[s.i] {
	case '"':
		s.i++
		for s.i < len(s.in) {
			switch c := s.in[s.i]; {
			case c == '"':
				s.i++
				return true
			case c == '\\':
				s.i += 2
			case c < 0x20:
				return false
			default:
				s.i++
			}
		}
		return false
	case '{', '[':
		closer := byte('}')
		if s.in[s.i] == '[' {
			closer = ']'
		}
		s.i++
		s.space()
		if s.byte(closer) {
			return true
		}
		for {
			s.space()
			if closer == '}' {
				if s.i >= len(s.in) || s.in[s.i] != '"' || !s.skip(depth+1) {
					return false
				}
				s.space()
				if !s.byte(':') {
					return false
				}
				s.space()
			}
			if !s.skip(depth + 1) {
				return false
			}
			s.space()
			if s.byte(closer) {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	default:
		start := s.i
		for s.i < len(s.in) {
			switch s.in[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}
