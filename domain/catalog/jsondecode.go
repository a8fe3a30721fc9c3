package catalog

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// DecodeJSONObject decodes a JSON object into the map json.Unmarshal gives
// for it (numbers as float64, the last of repeated keys winning), in one pass
// and without reflection for the bodies a log holds. Input it does not read
// plainly (escape sequences in strings, nesting deeper than 512, anything
// invalid) goes to json.Unmarshal, so results and errors are json.Unmarshal's.
func DecodeJSONObject(raw []byte) (map[string]any, error) {
	d := jsonDecoder{in: raw}
	if m, ok := d.object(0); ok {
		d.space()
		if d.i == len(d.in) {
			return m, nil
		}
	}
	var m map[string]any
	err := json.Unmarshal(raw, &m)
	return m, err
}

// maxDecodeDepth is the nesting DecodeJSONObject follows itself.
const maxDecodeDepth = 512

type jsonDecoder struct {
	in []byte
	i  int
}

func (d *jsonDecoder) space() {
	for d.i < len(d.in) {
		switch d.in[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, bool) {
	d.space()
	if d.i >= len(d.in) {
		return nil, false
	}
	switch c := d.in[d.i]; {
	case c == '{':
		m, ok := d.object(depth + 1)
		return m, ok
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.in)-d.i < len(lit) || string(d.in[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	return true
}

func (d *jsonDecoder) object(depth int) (map[string]any, bool) {
	d.space()
	if depth > maxDecodeDepth || d.i >= len(d.in) || d.in[d.i] != '{' {
		return nil, false
	}
	d.i++
	m := map[string]any{}
	d.space()
	if d.i < len(d.in) && d.in[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.space()
		if d.i >= len(d.in) || d.in[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.in) || d.in[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		d.space()
		if d.i >= len(d.in) {
			return nil, false
		}
		switch d.in[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, bool) {
	if depth > maxDecodeDepth {
		return nil, false
	}
	d.i++ // [
	out := []any{}
	d.space()
	if d.i < len(d.in) && d.in[d.i] == ']' {
		d.i++
		return out, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		d.space()
		if d.i >= len(d.in) {
			return nil, false
		}
		switch d.in[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return out, true
		default:
			return nil, false
		}
	}
}

// str reads a string without escape sequences or control characters, in
// valid UTF-8.
func (d *jsonDecoder) str() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.in); j++ {
		switch c := d.in[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(d.in[start:j]) {
				return "", false
			}
			d.i = j + 1
			return string(d.in[start:j]), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// number reads a number in JSON's grammar as json.Unmarshal does (a float64
// from strconv.ParseFloat).
func (d *jsonDecoder) number() (any, bool) {
	j := d.i
	if d.in[j] == '-' {
		j++
	}
	switch {
	case j < len(d.in) && d.in[j] == '0':
		j++
	case j < len(d.in) && d.in[j] >= '1' && d.in[j] <= '9':
		for j < len(d.in) && d.in[j] >= '0' && d.in[j] <= '9' {
			j++
		}
	default:
		return nil, false
	}
	if j < len(d.in) && d.in[j] == '.' {
		j++
		k := j
		for j < len(d.in) && d.in[j] >= '0' && d.in[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false
		}
	}
	if j < len(d.in) && (d.in[j] == 'e' || d.in[j] == 'E') {
		j++
		if j < len(d.in) && (d.in[j] == '+' || d.in[j] == '-') {
			j++
		}
		k := j
		for j < len(d.in) && d.in[j] >= '0' && d.in[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(d.in[d.i:j]), 64)
	if err != nil {
		return nil, false
	}
	d.i = j
	return f, true
}
