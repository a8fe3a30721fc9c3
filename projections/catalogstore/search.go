package catalogstore

import (
	"slices"
	"strconv"
	"strings"
)

// maxSearchValue is the longest value kept in the search table; longer values keep
// the key (so existence filters work) with no value, as Backstage does.
const maxSearchValue = 200

// maxSearchKey is the longest key indexed.
const maxSearchKey = 200

// linearDedupe is how many rows of an entity appendSearch checks for
// duplicates by a scan before it keeps a map of them.
const linearDedupe = 64

// searchRows flattens an entity body into lower-case dotted keys; list items share
// their list's key. relations and status are left out. Each key and value
// appears once: the first row of each wins (its Original is kept), as with
// INSERT OR IGNORE into the search table.
func searchRows(body map[string]any) []SearchRow {
	recs := appendSearch(nil, 0, body)
	rows := make([]SearchRow, len(recs))
	for i, r := range recs {
		rows[i] = SearchRow{Key: r.Key, Value: r.Value, Original: r.Original}
	}
	return rows
}

// appendSearch appends searchRows's rows of body to rows, as rows of eid.
func appendSearch(rows []SearchRecord, eid int64, body map[string]any) []SearchRecord {
	type id struct{ key, value string }
	// Duplicates are found by a scan of this entity's rows while they are
	// few (most entities), then through a map.
	start := len(rows)
	var seen map[id]struct{}
	dup := func(key, value string) bool {
		if seen == nil && len(rows)-start > linearDedupe {
			seen = make(map[id]struct{}, 2*linearDedupe)
			for _, r := range rows[start:] {
				seen[id{r.Key, r.Value}] = struct{}{}
			}
		}
		if seen != nil {
			if _, ok := seen[id{key, value}]; ok {
				return true
			}
			seen[id{key, value}] = struct{}{}
			return false
		}
		for _, r := range rows[start:] {
			if r.Key == key && r.Value == value {
				return true
			}
		}
		return false
	}
	var walk func(prefix string, v any)
	emit := func(key, s string, null bool) {
		if len(key) > maxSearchKey {
			return
		}
		r := SearchRecord{EID: eid, Key: key}
		if !null && len(s) <= maxSearchValue {
			r.Value = strings.ToLower(s)
			if r.Value != s {
				orig := s
				r.Original = &orig
			}
		}
		if dup(key, r.Value) {
			return
		}
		rows = append(rows, r)
	}
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if prefix == "" && (k == "relations" || k == "status") {
					continue
				}
				if prefix == "metadata" && (k == "uid" || k == "etag" || k == "namespace") {
					continue // served from the entities table; the etag changes on every write
				}
				child := strings.ToLower(k)
				if prefix != "" {
					child = prefix + "." + child
				}
				walk(child, t[k])
			}
		case []any:
			for _, item := range t {
				walk(prefix, item)
				// Like Backstage, a string in a list is also a key of its own:
				// metadata.tags: [java] matches both metadata.tags=java and
				// metadata.tags.java.
				if str, ok := item.(string); ok && str != "" && len(str) <= maxSearchValue {
					emit(prefix+"."+strings.ToLower(str), "true", false)
				}
			}
		case string:
			emit(prefix, t, false)
		case bool:
			emit(prefix, strconv.FormatBool(t), false)
		case float64:
			emit(prefix, strconv.FormatFloat(t, 'f', -1, 64), false)
		case int:
			emit(prefix, strconv.Itoa(t), false)
		case int64:
			emit(prefix, strconv.FormatInt(t, 10), false)
		case uint64:
			emit(prefix, strconv.FormatUint(t, 10), false)
		case nil:
			emit(prefix, "", true)
		}
	}
	walk("", body)
	return rows
}
