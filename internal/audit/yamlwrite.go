package audit

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// This file writes the plain values JSON decodes into (maps with string keys,
// slices, strings, float64 numbers, booleans and nil) as YAML, byte for byte
// as yaml.v3's Marshal does, without its reflection, event stream and
// emitter: block style, four spaces of indentation, a sequence item's
// collection two spaces past its dash, keys in yaml.v3's order, empty
// collections as {} and [], and no line width. A string that is certainly a
// plain scalar is written as it is, a plain text of several lines as a
// literal block; any other string of one line is written as yaml.v3 writes
// it alone (quoted), which it writes the same inside a document. What the writer does not follow (a string or key of several
// lines, a key over 128 bytes, a value of another type, a string of several
// lines other than a plain literal block: see literal) makes it report false,
// and the caller marshals the document with yaml.v3 instead.

// yamlWriter appends YAML to buf.
type yamlWriter struct {
	buf []byte
}

// appendYAMLDocument appends m as yaml.Marshal(m) would and reports whether
// it could; on false, buf holds a partial document.
func appendYAMLDocument(buf []byte, m map[string]any) ([]byte, bool) {
	w := yamlWriter{buf: buf}
	if len(m) == 0 {
		return append(w.buf, "{}\n"...), true
	}
	ok := w.mapping(m, 0, false)
	return w.buf, ok
}

// indentAfter is the indentation of a block collection that is the value of
// a mapping key whose mapping is indented by ind: the next multiple of four.
func indentAfter(ind int) int { return 4 * ((ind + 4) / 4) }

func (w *yamlWriter) indent(n int) {
	for range n {
		w.buf = append(w.buf, ' ')
	}
}

// mapping writes m's entries at indentation ind; inline means the first
// starts where the writer stands (after a sequence item's dash).
func (w *yamlWriter) mapping(m map[string]any, ind int, inline bool) bool {
	keys := sortedKeys(m)
	for i, k := range keys {
		if i > 0 || !inline {
			w.indent(ind)
		}
		if !w.entry(k, m[k], ind) {
			return false
		}
	}
	return true
}

// entry writes one mapping entry, key and value, at indentation ind, the
// writer standing where the key starts.
func (w *yamlWriter) entry(k string, v any, ind int) bool {
	if !w.key(k) {
		return false
	}
	w.buf = append(w.buf, ':')
	return w.value(v, ind, false)
}

// sequence writes s's items at indentation ind; inline as for mapping.
func (w *yamlWriter) sequence(s []any, ind int, inline bool) bool {
	for i, v := range s {
		if i > 0 || !inline {
			w.indent(ind)
		}
		w.buf = append(w.buf, '-')
		if !w.value(v, ind, true) {
			return false
		}
	}
	return true
}

// value writes v after a key's colon (inSeq false) or an item's dash, in a
// collection indented by ind, and ends the line.
func (w *yamlWriter) value(v any, ind int, inSeq bool) bool {
	switch x := v.(type) {
	case map[string]any:
		switch {
		case len(x) == 0:
			w.buf = append(w.buf, " {}\n"...)
			return true
		case inSeq:
			w.buf = append(w.buf, ' ')
			return w.mapping(x, ind+2, true)
		}
		w.buf = append(w.buf, '\n')
		return w.mapping(x, indentAfter(ind), false)
	case []any:
		switch {
		case len(x) == 0:
			w.buf = append(w.buf, " []\n"...)
			return true
		case inSeq:
			w.buf = append(w.buf, ' ')
			return w.sequence(x, ind+2, true)
		}
		w.buf = append(w.buf, '\n')
		return w.sequence(x, indentAfter(ind), false)
	case string:
		w.buf = append(w.buf, ' ')
		if strings.IndexByte(x, '\n') >= 0 {
			scalarIndent := indentAfter(ind)
			if inSeq {
				scalarIndent = ind + 2
			}
			return w.literal(x, scalarIndent)
		}
		if !w.str(x) {
			return false
		}
	case float64:
		w.buf = append(w.buf, ' ')
		w.buf = appendYAMLFloat(w.buf, x)
	case bool:
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendBool(w.buf, x)
	case nil:
		w.buf = append(w.buf, " null"...)
	default:
		return false
	}
	w.buf = append(w.buf, '\n')
	return true
}

// literal writes a string of several lines as a literal block scalar, its
// lines indented by ind, as yaml.v3 does, and ends the line. It reports
// false for what it leaves to yaml.v3: characters other than printable ASCII
// and line feeds, a space before a line break or at the end (yaml.v3 quotes
// those), a first character that is a space or a line break (yaml.v3 writes
// an indentation indicator) and more than one line break at the end ("|+").
func (w *yamlWriter) literal(s string, ind int) bool {
	n := len(s)
	if s[0] == ' ' || s[0] == '\n' || s[n-1] == ' ' || n >= 2 && s[n-1] == '\n' && s[n-2] == '\n' {
		return false
	}
	for i := 0; i < n; i++ {
		c := s[i]
		if c == '\n' {
			if i > 0 && s[i-1] == ' ' {
				return false
			}
			continue
		}
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	w.buf = append(w.buf, '|')
	if s[n-1] != '\n' {
		w.buf = append(w.buf, '-')
	}
	w.buf = append(w.buf, '\n')
	for line := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		if line != "" {
			w.indent(ind)
			w.buf = append(w.buf, line...)
		}
		w.buf = append(w.buf, '\n')
	}
	return true
}

// appendYAMLFloat appends f as yaml.v3 writes a float64.
func appendYAMLFloat(buf []byte, f float64) []byte {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	switch s {
	case "+Inf":
		s = ".inf"
	case "-Inf":
		s = "-.inf"
	case "NaN":
		s = ".nan"
	}
	return append(buf, s...)
}

// maxSimpleKey is the longest key yaml.v3 writes as a simple key; a longer
// one is written as a complex key ("? ").
const maxSimpleKey = 128

// key writes a mapping key.
func (w *yamlWriter) key(k string) bool {
	if len(k) == 0 || len(k) > maxSimpleKey {
		return false
	}
	if plainScalar(k) {
		w.buf = append(w.buf, k...)
		return true
	}
	return w.quoted(k)
}

// str writes a string value.
func (w *yamlWriter) str(s string) bool {
	if plainScalar(s) {
		w.buf = append(w.buf, s...)
		return true
	}
	return w.quoted(s)
}

// quoted writes a one-line string as yaml.v3 writes it alone. It reports
// false for a string of several lines (a literal block, indented by where it
// stands) or one yaml.v3 writes on several lines.
func (w *yamlWriter) quoted(s string) bool {
	// YAML breaks lines at \u0085, \u2028 and \u2029 too.
	if strings.ContainsAny(s, "\n\r\u0085\u2028\u2029") || !utf8.ValidString(s) {
		return false
	}
	b, err := yaml.Marshal(s)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' || strings.IndexByte(string(b[:len(b)-1]), '\n') >= 0 {
		return false
	}
	w.buf = append(w.buf, b[:len(b)-1]...)
	return true
}

// plainScalar reports whether yaml.v3 certainly writes s as a plain scalar
// (as it is): s is one line of letters, digits and - _ . / : @ + ( ) = and
// inner spaces, starts with a letter, a digit, / or _, has no ": " or " #",
// does not end with a colon, and does not read as another type (true, null,
// a number, a date, a YAML 1.1 boolean or sexagesimal number). It answers
// false for some strings yaml.v3 writes plain too, never the other way.
func plainScalar(s string) bool {
	if s == "" {
		return false
	}
	c0 := s[0]
	digit := c0 >= '0' && c0 <= '9'
	if !(digit || c0 >= 'a' && c0 <= 'z' || c0 >= 'A' && c0 <= 'Z' || c0 == '/' || c0 == '_') {
		return false
	}
	last := s[len(s)-1]
	if last == ' ' || last == ':' {
		return false
	}
	letterOtherThanNumeric := false
	for i := 0; i < len(s); i++ {
		switch plainClass[s[i]] {
		case plainOK:
		case plainLetter:
			letterOtherThanNumeric = true
		case plainColon:
			if s[i+1] == ' ' { // s does not end with ':'
				return false
			}
		case plainSpace:
			if s[i+1] == '#' { // s does not end with ' '
				return false
			}
		default:
			return false
		}
	}
	if digit {
		// A number, a date or a sexagesimal number starts with a digit and
		// holds no letter other than those of 0x, 0o, 0b, hexadecimal
		// digits, exponents and a date's T and Z. Any other letter, or a
		// slash or an at sign, makes the string a string.
		if letterOtherThanNumeric || strings.ContainsAny(s, "/@()=") {
			return true
		}
		return !numberLike(s)
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "yes", "n", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

// The classes of the bytes plainScalar accepts.
const (
	plainNo     = iota
	plainOK     // digits, the letters of numbers, - _ . / @ + ( ) =
	plainLetter // a letter that is not in any number, date or time
	plainColon
	plainSpace
)

// plainClass is the class of every byte for plainScalar.
var plainClass = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = plainLetter, plainLetter
	}
	for _, c := range "eEoOxXbBtTzZaAcCdDfF0123456789-_./@+()=" {
		t[c] = plainOK
	}
	t[':'], t[' '] = plainColon, plainSpace
	return t
}()

// yamlFloat is the pattern of yaml.v3's floats.
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// numberLike reports whether s, which starts with a digit, might read as an
// int, a float, a timestamp or a sexagesimal number in yaml.v3: it answers
// true for every such string (and for some others).
func numberLike(s string) bool {
	if strings.IndexByte(s, ':') >= 0 || strings.IndexByte(s, ' ') >= 0 {
		return true // a sexagesimal number or a time
	}
	if len(s) > 4 && s[4] == '-' && strings.IndexFunc(s[:4], func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return true // a date
	}
	plain := strings.ReplaceAll(s, "_", "")
	// strconv is asked only about what it may read as an integer: on a uid
	// or an etag (hexadecimal, which starts with a digit as often as not) it
	// would make an error, a string copy and two allocations, to say no.
	if intSyntax(plain) {
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return true
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return true
		}
	}
	return floatChars(plain) && yamlFloat.MatchString(plain) || strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "0o")
}

// intSyntax reports whether strconv.ParseInt or ParseUint of base 0 might
// read s (without underscores): a sign, then decimal digits, or a 0 and a
// digit or base letter followed by hexadecimal digits. It answers true for
// every string they read (and for some they do not).
func intSyntax(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	if s[0] != '0' {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if len(s) == 1 {
		return true
	}
	switch c := s[1]; {
	case c >= '0' && c <= '9', c|0x20 == 'x', c|0x20 == 'o', c|0x20 == 'b':
	default:
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return true
}

// floatChars reports whether s holds only the bytes yamlFloat matches.
func floatChars(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in yaml.v3's order (keyLess).
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(keyOrder(keys))
	return keys
}

// keyOrder sorts strings as yaml.v3 sorts the string keys of a map.
type keyOrder []string

func (o keyOrder) Len() int           { return len(o) }
func (o keyOrder) Swap(i, j int)      { o[i], o[j] = o[j], o[i] }
func (o keyOrder) Less(i, j int) bool { return keyLess(o[i], o[j]) }

// keyLess is yaml.v3's order of two string keys: runes compared one by one,
// a letter after any other rune, and runs of digits compared as numbers.
func keyLess(a, b string) bool {
	if asciiNoDigits(a) && asciiNoDigits(b) {
		// No digits: the first differing byte decides, a letter after
		// anything else.
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] == b[i] {
				continue
			}
			al, bl := asciiLetter(a[i]), asciiLetter(b[i])
			if al != bl {
				return bl
			}
			return a[i] < b[i]
		}
		return len(a) < len(b)
	}
	ar, br := []rune(a), []rune(b)
	digits := false
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			digits = unicode.IsDigit(ar[i])
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			if digits {
				return al
			}
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

func asciiLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// asciiNoDigits reports whether s is ASCII without a digit.
func asciiNoDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c >= '0' && c <= '9' {
			return false
		}
	}
	return true
}
