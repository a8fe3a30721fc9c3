package catalog

import (
	"reflect"
	"sort"
	"strconv"
)

// The operations a FieldChange records.
const (
	// OpAdded is a field present only after the change.
	OpAdded = "added"
	// OpRemoved is a field present only before the change.
	OpRemoved = "removed"
	// OpChanged is a field present on both sides with different values.
	OpChanged = "changed"
)

// FieldChange is one difference between two versions of an entity body.
//
// Path names the field: object keys are joined with dots (spec.owner), list
// elements are written with their zero-based index in brackets (metadata.tags[2]),
// and a key that is not made of letters, digits, '_' and '-' only is written as a
// quoted Go/JSON string in brackets (metadata.annotations["backstage.io/x"]).
type FieldChange struct {
	// Path is the field's path in the convention above.
	Path string `json:"path"`
	// Op is OpAdded, OpRemoved or OpChanged.
	Op string `json:"op"`
	// Before is the value before the change; nil for OpAdded.
	Before any `json:"before,omitempty"`
	// After is the value after the change; nil for OpRemoved.
	After any `json:"after,omitempty"`
}

// Diff returns the field-level changes that turn before into after, as decoded
// from JSON (maps, lists, strings, numbers, booleans, nil). Objects are compared
// key by key in sorted key order and lists element by element by index, so the
// result is deterministic: changes come in depth-first order, keys sorted, list
// elements in index order. A field whose value changes between an object, a list
// and a scalar is one OpChanged. metadata.uid and metadata.etag, which the read
// model assigns, are ignored. Either side may be nil (an entity created or
// removed): every top-level field is then added or removed.
func Diff(before, after map[string]any) []FieldChange {
	var out []FieldChange
	diffMaps("", before, after, &out)
	return out
}

// ignored reports the paths Diff leaves out.
func ignored(path string) bool {
	return path == "metadata.uid" || path == "metadata.etag"
}

func diffMaps(prefix string, before, after map[string]any, out *[]FieldChange) {
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := joinKey(prefix, k)
		if ignored(path) {
			continue
		}
		b, inB := before[k]
		a, inA := after[k]
		switch {
		case !inB:
			*out = append(*out, FieldChange{Path: path, Op: OpAdded, After: a})
		case !inA:
			*out = append(*out, FieldChange{Path: path, Op: OpRemoved, Before: b})
		default:
			diffValues(path, b, a, out)
		}
	}
}

func diffValues(path string, before, after any, out *[]FieldChange) {
	switch b := before.(type) {
	case map[string]any:
		if a, ok := after.(map[string]any); ok {
			diffMaps(path, b, a, out)
			return
		}
	case []any:
		if a, ok := after.([]any); ok {
			diffLists(path, b, a, out)
			return
		}
	}
	if !reflect.DeepEqual(before, after) {
		*out = append(*out, FieldChange{Path: path, Op: OpChanged, Before: before, After: after})
	}
}

func diffLists(path string, before, after []any, out *[]FieldChange) {
	for i := 0; i < max(len(before), len(after)); i++ {
		p := path + "[" + strconv.Itoa(i) + "]"
		switch {
		case i >= len(before):
			*out = append(*out, FieldChange{Path: p, Op: OpAdded, After: after[i]})
		case i >= len(after):
			*out = append(*out, FieldChange{Path: p, Op: OpRemoved, Before: before[i]})
		default:
			diffValues(p, before[i], after[i], out)
		}
	}
}

// joinKey appends an object key to a path.
func joinKey(prefix, key string) string {
	if !plainKey(key) {
		return prefix + "[" + strconv.Quote(key) + "]"
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// plainKey reports a key written bare in a path.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
