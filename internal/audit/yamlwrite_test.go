package audit

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// awkwardStrings are strings yaml.v3 writes in every style it has: plain,
// single and double quoted, literal blocks; and strings that read as other
// types, indicators, unicode, numbers as strings, empty and long ones.
var awkwardStrings = []string{
	"", " ", "a", "checkout", "component:default/checkout", "group:default/team-a", "user:default/ada",
	"a: b", "a:b", "a:", ":a", "a :b", "- a", "-a", "-", "--", "---", "...", "a...", ".a", "?", "? a", "?a",
	"#a", "a #b", "a#b", "a # b", "&a", "*a", "!a", "|", ">", "'", "\"", "%a", "@a", "a@b", "`a", "a`",
	"[a]", "{a}", "a,b", "a, b", "a[b]", "a{b}", "a}", "a]", "=", "=a", "a=b", "(a)", "a(b)", "<<", "<a", "a<b",
	"true", "True", "TRUE", "tRue", "false", "False", "null", "Null", "NULL", "nULL", "~", "~a", "a~",
	"y", "Y", "yes", "Yes", "YES", "yEs", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "oFF",
	"0", "1", "-1", "+1", "007", "0x1F", "0X1F", "0o17", "0O17", "0b101", "-0b101", "-0o17", "1_000", "1__0", "_1",
	"1.0", "1.", ".5", "1e3", "1E3", "1e+3", "-1.5e-3", "+.inf", ".inf", "-.inf", ".nan", ".NaN", "inf", "nan", "Infinity",
	"1.0.0", "v1.0.0", "1.0-beta", "1.2.3-rc.1+build.5", "10:30", "1:20:30", "190:20:30.15", "12:3", "1:60",
	"2026-12-06", "2026-1-2", "2026-12-06T10:00:00Z", "2026-12-06t10:00:00z", "2026-12-06 10:00:00", "2026-12-06 10:00:00 +1", "20261206",
	"0190a2b3-1c2d-7e4f-8a9b-0c1d2e3f4a5b", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"1abc", "1ghi", "1/2", "1@2", "1 2", "1  2", "1T2", "1z", "0xZZ", "1e", "1e+", "12 ", " 12", "1:", "1: 2",
	"a b", "a  b", "a\tb", "\ta", "a\t", "a ", " a", "a\nb", "a\n", "\na", "a\n\n", "a\r\nb", "a\rb", " a\nb", "a \nb", "a\n b",
	"café", "日本語", "emoji 🎉", "a\u00a0b", "\u00a0", "a\u2028b", "a\u0085b", "\ufeffa", "a\x00b", "a\x07b", "a\x7fb", "\xff\xfe",
	"a\\b", "a\"b", "a'b", "'a'", "\"a\"", "it's", "https://example.com/a?b=c&d=e#f", "http://x:8080/a", "C:\\path",
	"<b>bold</b>", "${{ parameters.name }}", "{{ x }}", "%{x}", "@scope/pkg", "a/b/c", "/abs/path", "_x", "__",
	strings.Repeat("long ", 40) + "end", strings.Repeat("x", 129), strings.Repeat("y", 128), strings.Repeat("ab:c ", 30),
	"backstage.io/source-location", "url:https://github.com/org/repo/tree/main/", "tags", "kind", "metadata", "spec",
	"k9", "k10", "k010", "a1b", "a01b", "a1", "A", "Z", "_", "b_", "bA", "b-", "b.", "b0", "b00", "10", "9", "x09", "x9", "x10",
}

// randomValue builds a value of plain JSON types, depth levels deep at most.
func randomValue(r *rand.Rand, depth int) any {
	n := r.IntN(10)
	if depth <= 0 && n >= 7 {
		n = r.IntN(7)
	}
	switch n {
	case 0, 1, 2:
		return awkwardStrings[r.IntN(len(awkwardStrings))]
	case 3:
		switch r.IntN(6) {
		case 0:
			return float64(r.IntN(2000) - 1000)
		case 1:
			return r.NormFloat64() * 1e6
		case 2:
			return math.Pow(10, float64(r.IntN(60)-30))
		case 3:
			return []float64{0, math.Copysign(0, -1), 1.5, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64}[r.IntN(7)]
		default:
			return float64(r.Int64N(1 << 53))
		}
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6:
		return randomString(r)
	case 7, 8:
		m := map[string]any{}
		for range r.IntN(6) {
			k := awkwardStrings[r.IntN(len(awkwardStrings))]
			if r.IntN(3) == 0 {
				k = randomString(r)
			}
			m[k] = randomValue(r, depth-1)
		}
		return m
	default:
		s := make([]any, r.IntN(5))
		for i := range s {
			s[i] = randomValue(r, depth-1)
		}
		return s
	}
}

// randomString joins random pieces: characters YAML treats specially,
// letters, digits, spaces and unicode.
func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", "9", "-", "_", ".", "/", ":", " ", "#", "'", "\"", "\\", "@", "+", "=", "(", ")", ",", "[", "{", "?", "!", "&", "*", "|", ">", "%", "~", "é", "\t", "\n", "x", "e", "T"}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// checkYAML compares the writer with yaml.Marshal on doc; it reports whether
// the writer wrote it itself.
func checkYAML(t *testing.T, doc map[string]any) bool {
	t.Helper()
	want, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	got, ok := appendYAMLDocument(nil, doc)
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("for %#v\nwrote\n%s\nwant (yaml.v3)\n%s", doc, got, want)
	}
	return ok
}

// multiline reports whether v holds a string of several lines or a key over
// the simple key length, which the writer leaves to yaml.v3.
func multiline(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsAny(x, "\n\r\u0085\u2028\u2029")
	case map[string]any:
		for k, e := range x {
			if multiline(k) || len(k) > maxSimpleKey || k == "" || multiline(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if multiline(e) {
				return true
			}
		}
	}
	return false
}

// TestYAMLWriterWritesWhatYAMLv3Writes compares the writer with yaml.v3 on
// random documents of awkward strings, numbers, booleans, nulls and nested
// and empty collections: every document it writes itself must be the same
// bytes, and it must write itself every document without a string of several
// lines or a key yaml.v3 cannot write as a simple key.
func TestYAMLWriterWritesWhatYAMLv3Writes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(17, 1))
	written, total := 0, 0
	for range 20000 {
		doc, _ := randomValue(r, 4).(map[string]any)
		if doc == nil {
			doc = map[string]any{"v": randomValue(r, 4)}
		}
		total++
		ok := checkYAML(t, doc)
		if ok {
			written++
		} else if !multiline(doc) && !strings.ContainsRune(awkwardKeys(doc), 0xfffd) {
			want, _ := yaml.Marshal(doc)
			t.Fatalf("the writer gave up on a document without a multi-line string:\n%s", want)
		}
	}
	if written < total/3 {
		t.Errorf("the writer wrote %d of %d documents itself", written, total)
	}
	t.Logf("the writer wrote %d of %d documents itself", written, total)
}

// awkwardKeys joins a document's strings, so the test can tell one that is
// not UTF-8 (yaml.v3 writes it as base64 over several lines).
func awkwardKeys(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(strings.ToValidUTF8(x, "\ufffd"))
		case map[string]any:
			for k, e := range x {
				b.WriteString(strings.ToValidUTF8(k, "\ufffd"))
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// TestYAMLWriterEveryAwkwardString puts each awkward string as a key and as a
// value at every depth and place: mapping value, sequence item, inside a
// sequence item's mapping.
func TestYAMLWriterEveryAwkwardString(t *testing.T) {
	t.Parallel()
	for _, s := range awkwardStrings {
		docs := []map[string]any{
			{"v": s},
			{s: "v"},
			{s: map[string]any{s: s}},
			{"a": []any{s, map[string]any{s: s, "b": []any{s}}, []any{s}}},
			{"a": map[string]any{"b": []any{map[string]any{"c": s, s: []any{map[string]any{}}}}}},
			{"apiVersion": "backstage.io/v1alpha1", "metadata": map[string]any{"annotations": map[string]any{s: s}, "tags": []any{s}}, "spec": map[string]any{"owner": s}},
		}
		for _, doc := range docs {
			ok := checkYAML(t, doc)
			if !ok && !multiline(doc) && !multiline(s) && s != "" && len(s) <= maxSimpleKey && strings.ToValidUTF8(s, "") == s {
				t.Errorf("the writer gave up on %q", s)
			}
		}
	}
}

// TestYAMLWriterWritesLiteralBlocks checks the writer writes plain texts of
// several lines itself, as yaml.v3 does, at every depth.
func TestYAMLWriterWritesLiteralBlocks(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"a\nb", "a\n", "a\n\nb\n", "openapi: 3.0.3\ninfo:\n  title: x # y\n  version: '1'\n", "x\n    indented\n\tno\n"} {
		for _, doc := range []map[string]any{
			{"v": s},
			{"a": []any{s, map[string]any{"b": s, "c": []any{[]any{s}}}}},
			{"a": map[string]any{"b": map[string]any{"c": s}}, "d": s},
		} {
			if !checkYAML(t, doc) && !strings.Contains(s, "\t") {
				t.Errorf("the writer gave up on %q", s)
			}
		}
	}
}

// TestPlainScalarIsYAMLv3sPlain checks plainScalar against yaml.v3 on every
// awkward string and many random ones: a string it calls plain must be
// written as it is.
func TestPlainScalarIsYAMLv3sPlain(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 9))
	check := func(s string) {
		if !plainScalar(s) {
			return
		}
		b, err := yaml.Marshal(s)
		if err != nil || string(b) != s+"\n" {
			t.Errorf("plainScalar(%q) but yaml.v3 writes %q", s, b)
		}
	}
	for _, s := range awkwardStrings {
		check(s)
	}
	for range 100000 {
		check(randomString(r))
	}
	if !plainScalar("component:default/checkout") || !plainScalar("0190a2b3-1c2d-7e4f-8a9b-0c1d2e3f4a5b") {
		t.Error("plainScalar refuses a ref or a uid")
	}
}

// TestKeyLessIsYAMLv3sOrder sorts random keys with keyLess and checks
// yaml.v3 writes a mapping of them in that order.
func TestKeyLessIsYAMLv3sOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	for range 3000 {
		m := map[string]any{}
		for range 2 + r.IntN(8) {
			k := awkwardStrings[r.IntN(len(awkwardStrings))]
			if r.IntN(2) == 0 {
				k = randomString(r)
			}
			if k == "" || strings.ContainsAny(k, "\n\r") || len(k) > maxSimpleKey {
				continue
			}
			m[k] = 1.0
		}
		checkYAML(t, m)
	}
}

// FuzzYAMLWriter compares the writer with yaml.v3 on a fuzzed string as a key
// and as a value, alone and nested.
func FuzzYAMLWriter(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		for _, doc := range []map[string]any{
			{"v": v},
			{k: v},
			{"a": []any{v, map[string]any{k: v, "x": []any{v}}}},
			{k: map[string]any{v: []any{k}}},
		} {
			checkYAML(t, doc)
		}
	})
}

// numberLikeStrconv is numberLike as it was before intSyntax and floatChars
// spared it strconv's errors: what numberLike must keep answering.
func numberLikeStrconv(s string) bool {
	if strings.IndexByte(s, ':') >= 0 || strings.IndexByte(s, ' ') >= 0 {
		return true
	}
	if len(s) > 4 && s[4] == '-' && strings.IndexFunc(s[:4], func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return true
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return true
	}
	return yamlFloat.MatchString(plain) || strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "0o")
}

// TestNumberLikeAsStrconv checks numberLike against strconv's answer on
// numbers of every base and form, near misses and random strings of the
// bytes numbers are made of.
func TestNumberLikeAsStrconv(t *testing.T) {
	t.Parallel()
	cases := []string{"0", "00", "07", "08", "0x", "0x1f", "0X1F", "0xg", "0o17", "0o18", "0b101", "0b2", "0B1",
		"1", "12", "-1", "+1", "-", "+", "1e5", "1.5", ".5", "1.", "1e", "1e+5", "-0x10", "+0o7", "1_000", "0x_ff",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
		"0xffffffffffffffffff", "0e5f56850e106187129e4f35c4a1f741", "9e5f56850e106187129e4f35c4a1f741",
		"01a2523e-7e9c-7efd-b399-12890701adb1", "2024-01-02", "12:30", "1 2", "0.5.5", "1e5e5", "0b", "0o"}
	r := rand.New(rand.NewPCG(7, 11))
	const alphabet = "0123456789abcdefxobXOBE+-._"
	for range 200000 {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		b[0] = "0123456789"[r.IntN(10)]
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := numberLike(s), numberLikeStrconv(s); got != want {
			t.Errorf("numberLike(%q) = %v, strconv says %v", s, got, want)
		}
	}
}

// TestNumberLikeAllocatesNothingForAnID checks that a uid or an etag, which
// start with a digit as often as not, are told from numbers without an
// allocation (strconv's errors made two each).
func TestNumberLikeAllocatesNothingForAnID(t *testing.T) {
	for _, s := range []string{"01a2523e-7e9c-7efd-b399-12890701adb1", "9e5f56850e106187129e4f35c4a1f741"} {
		if numberLike(s) {
			t.Errorf("numberLike(%q): want false", s)
		}
		if n := testing.AllocsPerRun(100, func() { numberLike(s) }); n != 0 {
			t.Errorf("numberLike(%q) allocates %v times, want 0", s, n)
		}
	}
}
