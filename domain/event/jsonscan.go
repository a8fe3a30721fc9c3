package event

// This file is the scanner base of Backlot's fast JSON readers: the catalog
// fold's upsert reader and stored-body writer, the audit's upsert reader, the
// badge fold's decoder and the canonical form Digest hashes. Each reads the
// plain JSON Backlot itself writes without reflection and hands anything else
// to encoding/json; the scanner gives them white space, bytes, literals and
// strings, and each keeps its own rule for the strings it reads itself.

// JSONScanner walks JSON text token by token, from the start of its input.
// It decodes nothing: ReadString returns a string's bytes as they stand
// between its quotes, with the StringTraits that say what those bytes hold, so
// a reader takes the strings its rule allows and leaves the others to
// encoding/json. Every method reports false (or does nothing) at the end of
// the input or on a byte it does not expect, and then leaves the position
// where it was. A JSONScanner is a small value for one goroutine; a reader
// embeds it to add the methods of its own format.
type JSONScanner struct {
	in []byte
	i  int
}

// NewJSONScanner returns a scanner at the start of in. It reads in without
// copying it: the byte slices it returns share in's bytes.
func NewJSONScanner(in []byte) JSONScanner { return JSONScanner{in: in} }

// Input returns the text being scanned, whole.
func (s *JSONScanner) Input() []byte { return s.in }

// Pos returns the offset of the next byte to scan.
func (s *JSONScanner) Pos() int { return s.i }

// Seek moves to offset i of the input, for a reader that walks some bytes
// itself (a number, a value it skips). i must lie in 0..len(Input()).
func (s *JSONScanner) Seek(i int) { s.i = i }

// AtEnd reports whether the whole input has been scanned.
func (s *JSONScanner) AtEnd() bool { return s.i >= len(s.in) }

// Peek returns the next byte without taking it; ok is false at the end.
func (s *JSONScanner) Peek() (c byte, ok bool) {
	if s.i < len(s.in) {
		return s.in[s.i], true
	}
	return 0, false
}

// Space moves past JSON white space: space, tab, line feed and carriage
// return.
func (s *JSONScanner) Space() {
	for s.i < len(s.in) {
		switch s.in[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Byte takes c when it is the next byte and reports whether it was. It
// skips no white space.
func (s *JSONScanner) Byte(c byte) bool {
	if s.i < len(s.in) && s.in[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Number takes a number in JSON's grammar and returns its text, which
// shares the input's memory; ok is false, and nothing is taken, when the
// input does not go on with one. Its value is strconv.ParseFloat's of the
// text, as json.Unmarshal reads it into an any.
func (s *JSONScanner) Number() (text []byte, ok bool) {
	in, j := s.in, s.i
	if j < len(in) && in[j] == '-' {
		j++
	}
	switch {
	case j < len(in) && in[j] == '0':
		j++
	case j < len(in) && in[j] >= '1' && in[j] <= '9':
		j = digits(in, j)
	default:
		return nil, false
	}
	if j < len(in) && in[j] == '.' {
		k := digits(in, j+1)
		if k == j+1 {
			return nil, false
		}
		j = k
	}
	if j < len(in) && (in[j] == 'e' || in[j] == 'E') {
		j++
		if j < len(in) && (in[j] == '+' || in[j] == '-') {
			j++
		}
		k := digits(in, j)
		if k == j {
			return nil, false
		}
		j = k
	}
	text, s.i = in[s.i:j], j
	return text, true
}

// digits returns the index of the first byte from j on that is not a decimal
// digit.
func digits(in []byte, j int) int {
	for j < len(in) && in[j] >= '0' && in[j] <= '9' {
		j++
	}
	return j
}

// Literal takes lit (true, false or null) when the input goes on with it and
// reports whether it did. It checks no delimiter after lit: the reader's next
// step does.
func (s *JSONScanner) Literal(lit string) bool {
	if len(s.in)-s.i >= len(lit) && string(s.in[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// StringTraits says what the bytes of a string read by ReadString hold
// besides printable ASCII that json.Marshal writes as it stands. A string
// with no trait (zero) is exactly that; a reader that turns strings of other
// traits away leaves them to encoding/json.
type StringTraits uint8

const (
	// StringEscaped marks a string with a backslash escape: \" \\ \/ \b
	// \f \n \r \t, or \u and four hex digits. Its bytes are not its value.
	StringEscaped StringTraits = 1 << iota
	// StringNonASCII marks a string with bytes of 0x80 and above. They are
	// not checked: they may be invalid UTF-8, which encoding/json decodes
	// as U+FFFD.
	StringNonASCII
	// StringMarkup marks a string with <, > or &, which json.Marshal
	// writes escaped for HTML, or DEL (0x7f), which is not printable.
	StringMarkup
)

// stringStop marks, in stringClass, the bytes that end a run of a string's
// bytes: the closing quote, a backslash and the control characters (which
// JSON refuses in a string).
const stringStop = 0x80

// stringClass classifies a byte inside a string: 0 for printable ASCII that
// json.Marshal writes as it stands, the trait it gives the string, or
// stringStop.
var stringClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = stringStop
	}
	t['"'], t['\\'] = stringStop, stringStop
	t['<'], t['>'], t['&'], t[0x7f] = uint8(StringMarkup), uint8(StringMarkup), uint8(StringMarkup), uint8(StringMarkup)
	for c := 0x80; c < 0x100; c++ {
		t[c] = uint8(StringNonASCII)
	}
	return t
}()

// ReadString reads the string that starts at the next byte (a quote; white
// space is not skipped) and returns its contents as they stand between the
// quotes, sharing the input's bytes, with their traits. ok is false when the
// next byte is not a quote or the string is not valid JSON: not closed, a
// control character, or an escape JSON does not know. A string ReadString
// reads is one encoding/json reads too.
func (s *JSONScanner) ReadString() (text []byte, traits StringTraits, ok bool) {
	in := s.in
	if s.i >= len(in) || in[s.i] != '"' {
		return nil, 0, false
	}
	start := s.i + 1
	for j := start; j < len(in); j++ {
		c := stringClass[in[j]]
		if c < stringStop {
			traits |= StringTraits(c)
			continue
		}
		switch in[j] {
		case '"':
			s.i = j + 1
			return in[start:j], traits, true
		case '\\':
			n := escapeLen(in[j+1:])
			if n == 0 {
				return nil, 0, false
			}
			traits |= StringEscaped
			j += n // and the loop's step passes the backslash
		default:
			return nil, 0, false // a control character
		}
	}
	return nil, 0, false
}

// escapeLen returns how many bytes after a backslash its escape takes, or 0
// when rest does not begin a JSON escape.
func escapeLen(rest []byte) int {
	if len(rest) == 0 {
		return 0
	}
	switch rest[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(rest) < 5 {
			return 0
		}
		for _, h := range rest[1:5] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return 0
			}
		}
		return 5
	}
	return 0
}
