package badges

import (
	"encoding/json"

	"backlot.dev/backlot/domain/event"
)

// DecodeBadgeChanged decodes the data of a badge event (of the newest
// version) as json.Unmarshal does. The data the evaluator writes (known keys,
// plain ASCII strings without escapes, whole numbers) is read by a scanner
// made for it, several times faster than encoding/json's reflection; anything
// else the scanner does not know goes to json.Unmarshal, so the result and the
// error are always json.Unmarshal's.
func DecodeBadgeChanged(data []byte, d *event.BadgeChanged) error {
	if fastBadgeChanged(data, d) {
		return nil
	}
	*d = event.BadgeChanged{}
	return json.Unmarshal(data, d)
}

// fastBadgeChanged decodes data into d when it is of the plain form
// DecodeBadgeChanged describes, and reports whether it was; d is left
// half-filled when it was not.
func fastBadgeChanged(data []byte, d *event.BadgeChanged) bool {
	s := scanner{event.NewJSONScanner(data)}
	*d = event.BadgeChanged{}
	var seen uint16
	ok := s.object(func(key []byte) bool {
		var bit uint16
		var ok bool
		switch string(key) {
		case "entity":
			bit = 1 << 0
			d.Entity, ok = s.str()
		case "entityHash":
			bit = 1 << 1
			d.EntityHash, ok = s.str()
		case "owner":
			bit = 1 << 2
			d.Owner, ok = s.str()
		case "policy":
			bit = 1 << 3
			d.Policy, ok = s.str()
		case "applies":
			bit = 1 << 4
			d.Applies, ok = s.boolean()
		case "level":
			bit = 1 << 5
			d.Level, ok = s.str()
		case "previousLevel":
			bit = 1 << 6
			d.PreviousLevel, ok = s.str()
		case "levelRank":
			bit = 1 << 7
			d.LevelRank, ok = s.integer()
		case "checks":
			bit = 1 << 8
			d.Checks, ok = s.checks()
		case "changed":
			bit = 1 << 9
			d.Changed, ok = s.strings()
		case "campaigns":
			bit = 1 << 10
			d.Campaigns, ok = s.strings()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	if !ok {
		return false
	}
	s.Space()
	return s.AtEnd()
}

// scanner reads the plain JSON fastBadgeChanged accepts; every method
// reports false on anything else.
type scanner struct{ event.JSONScanner }

// next skips white space and reports whether the next byte is c, taking it.
func (s *scanner) next(c byte) bool {
	s.Space()
	return s.Byte(c)
}

// raw returns the bytes of a string without escapes, control characters or
// bytes outside ASCII (which json.Unmarshal may rewrite).
func (s *scanner) raw() ([]byte, bool) {
	s.Space()
	text, traits, ok := s.ReadString()
	if !ok || traits&(event.StringEscaped|event.StringNonASCII) != 0 {
		return nil, false
	}
	return text, true
}

func (s *scanner) str() (string, bool) {
	b, ok := s.raw()
	return string(b), ok
}

func (s *scanner) boolean() (bool, bool) {
	s.Space()
	switch {
	case s.Literal("true"):
		return true, true
	case s.Literal("false"):
		return false, true
	}
	return false, false
}

// integer reads a whole number of at most 18 digits without a leading zero
// (but 0 itself), as JSON writes one.
func (s *scanner) integer() (int, bool) {
	s.Space()
	in, i := s.Input(), s.Pos()
	neg := i < len(in) && in[i] == '-'
	if neg {
		i++
	}
	start, n := i, 0
	for i < len(in) && in[i] >= '0' && in[i] <= '9' {
		n = n*10 + int(in[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && in[start] == '0') {
		return 0, false
	}
	if i < len(in) && (in[i] == '.' || in[i] == 'e' || in[i] == 'E') {
		return 0, false
	}
	if neg {
		n = -n
	}
	s.Seek(i)
	return n, true
}

// object reads an object, calling field after each key and its colon to read
// the value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.next(':') || !field(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// null takes a null.
func (s *scanner) null() bool {
	s.Space()
	return s.Literal("null")
}

// array reads an array, calling elem for each element.
func (s *scanner) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// strings reads an array of strings; null is a nil slice (json.Unmarshal
// leaves the zero slice as it is).
func (s *scanner) strings() ([]string, bool) {
	if s.null() {
		return nil, true
	}
	out := []string{}
	ok := s.array(func() bool {
		v, ok := s.str()
		out = append(out, v)
		return ok
	})
	return out, ok
}

// checks reads an array of check outcomes; null is a nil slice.
func (s *scanner) checks() ([]event.CheckOutcome, bool) {
	if s.null() {
		return nil, true
	}
	out := make([]event.CheckOutcome, 0, 20)
	ok := s.array(func() bool {
		var c event.CheckOutcome
		var seen uint8
		ok := s.object(func(key []byte) bool {
			var bit uint8
			var ok bool
			switch string(key) {
			case "id":
				bit = 1 << 0
				c.ID, ok = s.str()
			case "level":
				bit = 1 << 1
				c.Level, ok = s.str()
			case "passed":
				bit = 1 << 2
				c.Passed, ok = s.boolean()
			case "message":
				bit = 1 << 3
				c.Message, ok = s.str()
			case "error":
				bit = 1 << 4
				c.Error, ok = s.str()
			default:
				return false
			}
			if !ok || seen&bit != 0 {
				return false
			}
			seen |= bit
			return true
		})
		out = append(out, c)
		return ok
	})
	return out, ok
}
