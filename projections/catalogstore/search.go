package catalogstore

import (
	"sort"
	"strconv"
	"strings"
)

// maxSearchValue is the longest value kept in the search table; longer values keep
// the key (so existence filters work) with no value, as Backstage does.
const maxSearchValue = 200

// maxSearchKey is the longest key indexed.
const maxSearchKey = 200

// searchRow is one key/value pair of an entity.
type searchRow struct {
	key      string
	value    *string
	original *string
}

// searchRows flattens an entity body into lower-case dotted keys; list items share
// their list's key. relations and status are left out.
func searchRows(body map[string]any) []searchRow {
	seen := map[string]bool{}
	var rows []searchRow
	var walk func(prefix string, v any)
	emit := func(key string, s *string) {
		if len(key) > maxSearchKey {
			return
		}
		dedup := key + "\x00"
		if s != nil {
			dedup += *s
		}
		if seen[dedup] {
			return
		}
		seen[dedup] = true
		r := searchRow{key: key}
		if s != nil && len(*s) <= maxSearchValue {
			lower := strings.ToLower(*s)
			orig := *s
			r.value, r.original = &lower, &orig
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
			sort.Strings(keys)
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
					yes := "true"
					emit(prefix+"."+strings.ToLower(str), &yes)
				}
			}
		case string:
			emit(prefix, &t)
		case bool:
			s := strconv.FormatBool(t)
			emit(prefix, &s)
		case float64:
			s := strconv.FormatFloat(t, 'f', -1, 64)
			emit(prefix, &s)
		case int:
			s := strconv.Itoa(t)
			emit(prefix, &s)
		case int64:
			s := strconv.FormatInt(t, 10)
			emit(prefix, &s)
		case uint64:
			s := strconv.FormatUint(t, 10)
			emit(prefix, &s)
		case nil:
			emit(prefix, nil)
		}
	}
	walk("", body)
	return rows
}
