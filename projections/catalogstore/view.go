package catalogstore

import (
	"fmt"
	"sort"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// missingSort sorts entities without the order field after every real value.
const missingSort = "\U0010FFFF"

// creationOrder is the internal order field of lists that name none.
const creationOrder = "$created"

// keyOrder is the internal order field of lists in the order of their keys.
const keyOrder = "$key"

// etag derives an entity tag that changes whenever the body or uid does.
func etag(hash, uid string) string {
	return catalog.HashJSON([]byte(hash + uid))[:32]
}

// ETag is the metadata.etag StoredBody gives the version of body hash hash
// of the entity with uid.
func ETag(hash, uid string) string { return etag(hash, uid) }

func dedupeRelations(v *EntityView) {
	if len(v.Relations) < 2 {
		return
	}
	sort.Slice(v.Relations, func(i, j int) bool {
		a, b := v.Relations[i], v.Relations[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if la, lb := strings.ToLower(a.TargetRef), strings.ToLower(b.TargetRef); la != lb {
			return la < lb
		}
		// Refs that differ in case only: the same one is kept whatever
		// order the store read them in.
		return a.TargetRef < b.TargetRef
	})
	out := v.Relations[:1]
	for _, r := range v.Relations[1:] {
		last := out[len(out)-1]
		if r.Type == last.Type && strings.EqualFold(r.TargetRef, last.TargetRef) {
			continue
		}
		out = append(out, r)
	}
	v.Relations = out
}

func statusItem(pe event.ProcessingError) StatusItem {
	d := pe
	return StatusItem{
		Type:    "backstage.io/catalog-processing",
		Level:   "error",
		Message: describeError(pe),
		Error:   StatusItemError{Name: pe.Name, Message: pe.Message, Details: &d},
	}
}

// describeError renders a processing error with its file, document and field.
func describeError(pe event.ProcessingError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", pe.Name, pe.File)
	if pe.Document >= 0 {
		fmt.Fprintf(&b, ": document %d", pe.Document)
	}
	if pe.Entity != "" {
		fmt.Fprintf(&b, ": entity %s", pe.Entity)
	}
	if pe.Field != "" {
		fmt.Fprintf(&b, ": %s", pe.Field)
	}
	fmt.Fprintf(&b, ": %s", pe.Message)
	return b.String()
}
