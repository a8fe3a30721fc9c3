package golden

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// maxDiffs caps the differences a comparison lists: the first ones name the
// problem, hundreds more would bury it.
const maxDiffs = 12

// parseJSON decodes JSON keeping numbers as written.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// canonical renders v (a Go value or raw JSON) as indented JSON with sorted
// keys and numbers as written, so equal content gives equal bytes.
func canonical(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if raw, isRaw := v.(json.RawMessage); isRaw {
		b, ok = raw, true
	}
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	t, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Diff compares two JSON documents and lists where they differ, each line a
// path (entities[3].metadata.title) with both values; empty when they are
// equal. At most maxDiffs lines are listed, then how many more there were.
func Diff(want, got []byte) ([]string, error) { return DiffNamed(want, got, "want", "got") }

// DiffNamed is Diff with the two documents named in each line (committed,
// replayed).
func DiffNamed(want, got []byte, wantName, gotName string) ([]string, error) {
	w, err := parseJSON(want)
	if err != nil {
		return nil, fmt.Errorf("want: %w", err)
	}
	g, err := parseJSON(got)
	if err != nil {
		return nil, fmt.Errorf("got: %w", err)
	}
	var out []string
	walkDiff("", w, g, sides{wantName, gotName, false}, &out)
	if len(out) > maxDiffs {
		out = append(out[:maxDiffs], fmt.Sprintf("… and %d more differences", len(out)-maxDiffs))
	}
	return out, nil
}

// sides names the two documents in messages, and says how strict to be.
type sides struct {
	want, got string
	// lenient accepts a key of want missing from got when want's value is the
	// zero of its JSON type (what omitempty leaves out), and keys of got that
	// want lacks (fields added within a version).
	lenient bool
}

// walkDiff appends the differences between want and got under path.
func walkDiff(path string, want, got any, sd sides, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s %s, %s %s", orRoot(path), sd.want, short(want), sd.got, short(got)))
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, in := w[k]; !in {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := join(path, k)
			wv, win := w[k]
			gv, gin := g[k]
			switch {
			case win && !gin:
				if sd.lenient && isZero(wv) {
					continue
				}
				*out = append(*out, fmt.Sprintf("%s: %s %s, %s no such field", p, sd.want, short(wv), sd.got))
			case !win && gin:
				if sd.lenient {
					continue
				}
				*out = append(*out, fmt.Sprintf("%s: %s no such field, %s %s", p, sd.want, sd.got, short(gv)))
			default:
				walkDiff(p, wv, gv, sd, out)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s %s, %s %s", orRoot(path), sd.want, short(want), sd.got, short(got)))
			return
		}
		for i := range max(len(w), len(g)) {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i >= len(g):
				*out = append(*out, fmt.Sprintf("%s: %s %s, %s nothing (%d items instead of %d)", p, sd.want, short(w[i]), sd.got, len(g), len(w)))
			case i >= len(w):
				*out = append(*out, fmt.Sprintf("%s: %s nothing, %s %s (%d items instead of %d)", p, sd.want, sd.got, short(g[i]), len(g), len(w)))
			default:
				walkDiff(p, w[i], g[i], sd, out)
			}
		}
	default:
		if !equalScalar(want, got) {
			*out = append(*out, fmt.Sprintf("%s: %s %s, %s %s", orRoot(path), sd.want, short(want), sd.got, short(got)))
		}
	}
}

func equalScalar(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// isZero reports whether v is what omitempty leaves out.
func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func join(path, key string) string {
	switch {
	case strings.ContainsAny(key, ".[]\" ") || key == "":
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(the document)"
	}
	return path
}

// short renders a value for a message, cut at 120 bytes.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:117]) + "…"
	}
	return string(b)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
