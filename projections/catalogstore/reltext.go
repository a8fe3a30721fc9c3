package catalogstore

import (
	"strings"

	"backlot.dev/backlot/domain/catalog"
)

// relationText remembers, for the entities one goroutine builds rows for
// (a run of changes), the lower case of relation types and kinds: a batch's
// entities share a handful of them, and each then costs a map look-up
// instead of a new string (two a relation and one an entity, a fifth of a
// replay's allocations with the targets' display refs, which targetText
// spares). The nil *relationText computes every value afresh.
type relationText struct{ lower map[string]string }

// maxRelationText bounds a relationText: past it, values are computed afresh.
const maxRelationText = 256

// newRelationText returns an empty relationText.
func newRelationText() *relationText {
	return &relationText{lower: make(map[string]string, 16)}
}

// lowerOf returns strings.ToLower(s).
func (c *relationText) lowerOf(s string) string {
	if c == nil {
		return strings.ToLower(s)
	}
	if l, ok := c.lower[s]; ok {
		return l
	}
	l := strings.ToLower(s)
	if len(c.lower) < maxRelationText {
		c.lower[s] = l
	}
	return l
}

// targetText returns r.Key() and r.String(), one string for both when they
// are equal (displayRef).
func targetText(r catalog.Ref) (key, display string) {
	key = r.Key()
	return key, displayRef(r, key)
}

// displayRef returns r.String() given key, r.Key(): the key itself when the
// name is ASCII without upper case (the display form lowers kind and
// namespace as the key does and keeps the name as written), else a string of
// its own.
func displayRef(r catalog.Ref, key string) string {
	for i := 0; i < len(r.Name); i++ {
		if c := r.Name[i]; c >= 0x80 || 'A' <= c && c <= 'Z' {
			return r.String()
		}
	}
	return key
}
