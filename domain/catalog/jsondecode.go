package catalog

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"backlot.dev/backlot/domain/event"
)

// DecodeJSONObject decodes a JSON object into the map json.Unmarshal gives
// for it (numbers as float64, the last of repeated keys winning), in one pass
// and without reflection for the bodies a log holds. Input it does not read
// plainly (escape sequences in strings, nesting deeper than 512, anything
// invalid) goes to json.Unmarshal, so results and errors are json.Unmarshal's.
// The keys and string values it reads itself share one copy of raw, made
// once, instead of a copy each: the map holds nearly all of raw's text anyway.
func DecodeJSONObject(raw []byte) (map[string]any, error) {
	d := newJSONDecoder(raw)
	if m, ok := d.object(0); ok {
		d.Space()
		if d.AtEnd() {
			return m, nil
		}
	}
	var m map[string]any
	err := json.Unmarshal(raw, &m)
	return m, err
}

// maxDecodeDepth is the nesting DecodeJSONObject follows itself.
const maxDecodeDepth = 512

// jsonDecoder reads a JSON value into json.Unmarshal's types on the scanner
// base every fast JSON reader of Backlot shares.
type jsonDecoder struct {
	event.JSONScanner
	// text is the input as a string, whose substrings str returns.
	text string
}

// newJSONDecoder returns a decoder at the start of raw.
func newJSONDecoder(raw []byte) jsonDecoder {
	return jsonDecoder{JSONScanner: event.NewJSONScanner(raw), text: string(raw)}
}

func (d *jsonDecoder) value(depth int) (any, bool) {
	d.Space()
	c, ok := d.Peek()
	if !ok {
		return nil, false
	}
	switch {
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
		return true, d.Literal("true")
	case c == 'f':
		return false, d.Literal("false")
	case c == 'n':
		return nil, d.Literal("null")
	}
	return nil, false
}

func (d *jsonDecoder) object(depth int) (map[string]any, bool) {
	d.Space()
	if depth > maxDecodeDepth || !d.Byte('{') {
		return nil, false
	}
	m := map[string]any{}
	d.Space()
	if d.Byte('}') {
		return m, true
	}
	for {
		d.Space()
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.Space()
		if !d.Byte(':') {
			return nil, false
		}
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		d.Space()
		switch {
		case d.Byte(','):
		case d.Byte('}'):
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, bool) {
	if depth > maxDecodeDepth || !d.Byte('[') {
		return nil, false
	}
	out := []any{}
	d.Space()
	if d.Byte(']') {
		return out, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		d.Space()
		switch {
		case d.Byte(','):
		case d.Byte(']'):
			return out, true
		default:
			return nil, false
		}
	}
}

// str reads a string without escape sequences, in valid UTF-8: the strings
// whose bytes are their value. Others go to json.Unmarshal, which replaces
// invalid UTF-8 and decodes escapes.
func (d *jsonDecoder) str() (string, bool) {
	at := d.Pos()
	text, traits, ok := d.ReadString()
	if !ok || traits&event.StringEscaped != 0 || traits&event.StringNonASCII != 0 && !utf8.Valid(text) {
		d.Seek(at)
		return "", false
	}
	start := at + 1
	return d.text[start : start+len(text)], true
}

// number reads a number in JSON's grammar as json.Unmarshal does (a float64
// from strconv.ParseFloat).
func (d *jsonDecoder) number() (any, bool) {
	at := d.Pos()
	text, ok := d.Number()
	if !ok {
		return nil, false
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		d.Seek(at)
		return nil, false
	}
	return f, true
}
