package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

// jsonStringEnd is encoding/json's answer to where the string at the start
// of in ends: the length of the one prefix of in that is a valid JSON string
// (a string ends at its first quote not escaped), or -1 when none is.
func jsonStringEnd(in []byte) int {
	if len(in) == 0 || in[0] != '"' {
		return -1
	}
	for k := 1; k < len(in); k++ {
		if in[k] == '"' && json.Valid(in[:k+1]) {
			return k + 1
		}
	}
	return -1
}

// traitsOf is what StringTraits promise about text, found byte by byte.
func traitsOf(text []byte) StringTraits {
	var t StringTraits
	for _, c := range text {
		switch {
		case c == '\\':
			t |= StringEscaped
		case c >= 0x80:
			t |= StringNonASCII
		case c == '<' || c == '>' || c == '&' || c == 0x7f:
			t |= StringMarkup
		}
	}
	return t
}

// checkReadString reads the string after data's leading white space and
// checks it against encoding/json.
func checkReadString(t *testing.T, data []byte) {
	s := NewJSONScanner(data)
	s.Space()
	at := s.Pos()
	if want := len(data) - len(bytes.TrimLeft(data, " \t\n\r")); at != want {
		t.Fatalf("%q: Space stopped at %d, JSON's white space ends at %d", data, at, want)
	}
	text, traits, ok := s.ReadString()
	end := jsonStringEnd(data[at:])
	if ok != (end >= 0) {
		t.Fatalf("%q: ReadString ok %v, but encoding/json finds a string of %d bytes", data, ok, end)
	}
	if !ok {
		if s.Pos() != at {
			t.Fatalf("%q: a failed ReadString moved from %d to %d", data, at, s.Pos())
		}
		return
	}
	quoted := data[at : at+end]
	if s.Pos() != at+end || !bytes.Equal(text, quoted[1:len(quoted)-1]) {
		t.Fatalf("%q: ReadString took %q and ended at %d, want %q ending at %d", data, text, s.Pos(), quoted, at+end)
	}
	if want := traitsOf(text); traits != want {
		t.Fatalf("%q: traits %03b, want %03b", data, traits, want)
	}
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		t.Fatalf("%q: ReadString read a string encoding/json refuses: %v", quoted, err)
	}
	if traits&StringEscaped == 0 && utf8.Valid(text) && v != string(text) {
		t.Fatalf("%q: text %q without escapes, but encoding/json decodes %q", quoted, text, v)
	}
	if traits == 0 {
		if back, _ := json.Marshal(v); !bytes.Equal(back, quoted) {
			t.Fatalf("%q: no traits, but json.Marshal writes %q", quoted, back)
		}
	}
}

// readStrings reads null or an array of strings (or nulls) with the
// scanner, as a reader built on it does: the strings' contents as they stand.
func readStrings(data []byte) ([]string, bool) {
	s := NewJSONScanner(data)
	s.Space()
	if s.Literal("null") {
		s.Space()
		return nil, s.AtEnd()
	}
	if !s.Byte('[') {
		return nil, false
	}
	out := []string{}
	s.Space()
	if !s.Byte(']') {
		for {
			s.Space()
			if s.Literal("null") { // json.Unmarshal leaves the string as it is
				out = append(out, "")
			} else {
				text, _, ok := s.ReadString()
				if !ok {
					return nil, false
				}
				out = append(out, string(text))
			}
			s.Space()
			if s.Byte(']') {
				break
			}
			if !s.Byte(',') {
				return nil, false
			}
		}
	}
	s.Space()
	return out, s.AtEnd()
}

// checkStrings checks readStrings against json.Unmarshal into a []string:
// both read the same texts, and read the same strings where no escape or
// invalid UTF-8 asks for decoding.
func checkStrings(t *testing.T, data []byte) {
	got, ok := readStrings(data)
	var want []string
	err := json.Unmarshal(data, &want)
	if ok != (err == nil) {
		t.Fatalf("%q: scanner ok %v, json.Unmarshal error %v", data, ok, err)
	}
	if !ok {
		return
	}
	if len(got) != len(want) || (got == nil) != (want == nil) {
		t.Fatalf("%q: scanner read %q, json.Unmarshal %q", data, got, want)
	}
	for i := range got {
		if !bytes.ContainsRune([]byte(got[i]), '\\') && utf8.ValidString(got[i]) && got[i] != want[i] {
			t.Fatalf("%q: string %d is %q, json.Unmarshal reads %q", data, i, got[i], want[i])
		}
	}
}

var scannerSeeds = []string{
	`"plain"`, `""`, `  "after space"`, "\t\r\n\"after tabs\"", `"a\"b"`, `"back\\slash"`, `"\/\b\f\n\r\t"`,
	`"\u00e9\u2028"`, `"\ud800"`, `"\u12"`, `"\x"`, `"abc\`, `"abc\"`, `"unclosed`, "\"ctl\x01\"", "\"del\x7f\"",
	`"<a&b>"`, "\"caf\xc3\xa9\"", "\"bad\xff\xfe\"", "\"cut\xe2\x80\"", `"a"b"`, `x"a"`, ``, `"`, `"\u2029 \u0000"`,
	`null`, ` null `, `nul`, `[]`, ` [ ] `, `["a","b"]`, "[ \"a\" ,\n\"b\\n\" ]", `["a",]`, `["a" "b"]`, `[1]`, `["a"]x`,
	"[\"\xff\", \"\xc3\xa9<\"]", `["\ud83d\ude00"]`, `[null]`, `{"a":"b"}`,
}

func TestJSONScannerReadsStringsAsEncodingJSON(t *testing.T) {
	for _, seed := range scannerSeeds {
		t.Run(seed, func(t *testing.T) {
			checkReadString(t, []byte(seed))
			checkStrings(t, []byte(seed))
		})
	}
}

func TestReadStringTraits(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     StringTraits
	}{
		{"printable ASCII", `"component:default/x-1"`, 0},
		{"an escape", `"a\nb"`, StringEscaped},
		{"beyond ASCII", "\"caf\xc3\xa9\"", StringNonASCII},
		{"invalid UTF-8", "\"\xff\"", StringNonASCII},
		{"markup", `"a<b"`, StringMarkup},
		{"DEL", "\"\x7f\"", StringMarkup},
		{"all three", "\"\\t\xc3\xa9&\"", StringEscaped | StringNonASCII | StringMarkup},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewJSONScanner([]byte(c.in))
			_, got, ok := s.ReadString()
			if !ok || got != c.want || !s.AtEnd() {
				t.Fatalf("%q: traits %03b ok %v at end %v, want %03b", c.in, got, ok, s.AtEnd(), c.want)
			}
		})
	}
}

func FuzzJSONScanner(f *testing.F) {
	for _, seed := range scannerSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReadString(t, data)
		checkStrings(t, data)
	})
}

// A reader built on the scanner reads the plain strings itself and leaves
// the others (here, those with escapes) to encoding/json.
func ExampleJSONScanner() {
	s := NewJSONScanner([]byte(`{"name": "checkout", "title": "Check\nout"}`))
	s.Space()
	s.Byte('{')
	for {
		s.Space()
		key, _, _ := s.ReadString()
		s.Space()
		s.Byte(':')
		s.Space()
		value, traits, _ := s.ReadString()
		if traits&StringEscaped != 0 {
			fmt.Printf("%s: escaped, left to encoding/json\n", key)
		} else {
			fmt.Printf("%s: %s\n", key, value)
		}
		s.Space()
		if !s.Byte(',') {
			break
		}
	}
	fmt.Println(s.Byte('}') && s.AtEnd())
	// Output:
	// name: checkout
	// title: escaped, left to encoding/json
	// true
}

// TestJSONScannerReadsNumbersAsEncodingJSON takes the whole of a number in
// encoding/json's grammar and leaves what follows it unread; on what is not
// one it takes nothing, or a valid number short of the whole (as "0" of
// "01"), whose remainder the reader's next step then refuses.
func TestJSONScannerReadsNumbersAsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		"0", "-0", "7", "-12", "3.25", "1e9", "1E+9", "2.5e-3", "0.0", "10",
		"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "--1", "0x1", "1.e3", "x",
	} {
		for _, rest := range []string{"", ",", "}"} {
			s := NewJSONScanner([]byte(in + rest))
			text, ok := s.Number()
			switch {
			case json.Valid([]byte(in)):
				if !ok || string(text) != in || s.Pos() != len(in) {
					t.Errorf("Number of %q: %q, %v, at %d; want %q", in+rest, text, ok, s.Pos(), in)
				}
			case ok:
				if !json.Valid(text) || len(text) >= len(in) || s.Pos() != len(text) {
					t.Errorf("Number of %q took %q, at %d: not a valid number short of %q", in+rest, text, s.Pos(), in)
				}
			case s.Pos() != 0:
				t.Errorf("Number of %q refused it but moved to %d", in+rest, s.Pos())
			}
		}
	}
}
