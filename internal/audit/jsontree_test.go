package audit

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestUnescapeDecodesAsEncodingJSON holds the tree's decoder of strings with
// escapes to encoding/json's on strings of every escape, surrogate pairs
// whole, split, reversed or alone, and random mixes of them with plain and
// non-ASCII text; a string it declines, encoding/json must decline too or
// the tree falls back to it (counted, and none of these may be declined).
func TestUnescapeDecodesAsEncodingJSON(t *testing.T) {
	cases := []string{
		`a\nb`, `\"quoted\"`, `back\\slash`, `\/`, `\b\f\n\r\t`, `\u0026 \u003c\u003e`,
		`\u00e9t\u00C9`, `\u0000`, `\ud83d\ude00`, `\uD83D\uDE00`, `\ud83d`, `\ude00`, `\ude00\ud83d`,
		`\ud83d x`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`, `é\nü`, `日本\t語`, `\\u0041`, `x\u2028y`,
	}
	pieces := []string{`\n`, `\"`, `\\`, `\/`, `\t`, `\u0026`, `\ud83d`, `\ude00`, `\uffff`, `\u007f`, `a`, `Zz`, `é`, `語`, ` `, `0`, `\u00`}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, c := range cases {
		var want string
		wantErr := json.Unmarshal([]byte(`"`+c+`"`), &want)
		got, ok := unescape([]byte(c))
		switch {
		case wantErr != nil && ok:
			t.Errorf("unescape(%q) = %q, but encoding/json fails: %v", c, got, wantErr)
		case wantErr == nil && ok && got != want:
			t.Errorf("unescape(%q) = %q, want %q", c, got, want)
		case wantErr == nil && !ok && !strings.Contains(c, `\u00`):
			t.Errorf("unescape(%q) declined a string encoding/json reads", c)
		}
	}
}
