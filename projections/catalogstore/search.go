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
// INSERT OR IGNORE into the search table. Unlike the catalog's search table
// (appendSearch), it keeps the rows of the ColumnKeys: the history's
// catalog at an instant reads them.
func searchRows(body map[string]any) []SearchRow {
	w := searchWalker{withColumns: true}
	w.walk("", body)
	recs := ExpandItems(w.rows)
	rows := make([]SearchRow, len(recs))
	for i, r := range recs {
		rows[i] = SearchRow{Key: r.Key, Value: r.Value, Original: r.Original}
	}
	return rows
}

// ItemValue is the value of an item key (ItemKeys): a list's string item
// makes its own key, whose value is "true".
const ItemValue = "true"

// ColumnKeys are the search keys whose values the catalog's entities table
// holds as columns of its own (kind, name): the catalog's search table keeps
// no rows of them (appendSearch), and its readers read the columns instead
// (catalogsql.Dialect.NoColumnRows), whose values are those rows' in lower
// case; the spelling as written is in the entity's ref (the name) or body
// (the kind). Each cost a row an entity, in the table and in its two
// indexes. (metadata.namespace, metadata.uid and metadata.etag have no rows
// in any search table.)
var ColumnKeys = map[string]bool{"kind": true, "metadata.name": true}

// appendSearch appends the search table's rows of body to rows, as rows of
// eid: searchRows's rows without those of the ColumnKeys, except that a string item of a list (metadata.tags:
// [java]) makes one row, metadata.tags=java, marked Item, in place of two
// (that row and metadata.tags.java=true): readers derive the item's key
// from the mark (ItemKeys, ExpandItems). Each key and value appears once,
// the first row of each winning; a row is marked Item when any of the
// entity's list items made it.
func appendSearch(rows []SearchRecord, eid int64, body map[string]any) []SearchRecord {
	return appendSearchKeys(rows, eid, body, nil)
}

// appendSearchKeys is appendSearch taking the keys of paths from keys, when
// set, and adding to it those it makes.
func appendSearchKeys(rows []SearchRecord, eid int64, body map[string]any, keys *searchKeys) []SearchRecord {
	w := searchWalker{rows: rows, start: len(rows), eid: eid, keys: keys}
	w.walk("", body)
	return w.rows
}

// searchID is a row of the search table, for the dedupe of appendSearch.
type searchID struct{ key, value string }

// searchWalker appends the search rows of one entity body (appendSearch).
type searchWalker struct {
	rows  []SearchRecord
	start int // the first row of this entity
	eid   int64
	// seen indexes the entity's rows once they are too many for a scan.
	seen map[searchID]int
	// keys, when set, gives the keys of paths already seen (searchKeys).
	keys *searchKeys
	// origs holds the values that rows' Original point to, in slabs.
	origs []string
	// withColumns keeps the rows of the ColumnKeys, which the catalog's
	// search table leaves to the entities table's columns.
	withColumns bool
}

// searchKeys remembers the search key of each child of each path, so the
// bodies of a batch, which share most paths, make each key once instead of
// once an entity. It is used by one goroutine.
type searchKeys struct{ m map[[2]string]string }

// newSearchKeys returns an empty searchKeys.
func newSearchKeys() *searchKeys { return &searchKeys{m: make(map[[2]string]string, 64)} }

// maxSearchKeys bounds a searchKeys: past it, keys are made afresh.
const maxSearchKeys = 4096

// child returns the key of member k of the object at prefix: k in lower
// case, after prefix and a dot unless prefix is empty.
func (w *searchWalker) child(prefix, k string) string {
	if w.keys != nil {
		if c, ok := w.keys.m[[2]string{prefix, k}]; ok {
			return c
		}
	}
	c := strings.ToLower(k)
	if prefix != "" {
		c = prefix + "." + c
	}
	if w.keys != nil && len(w.keys.m) < maxSearchKeys {
		w.keys.m[[2]string{prefix, k}] = c
	}
	return c
}

// find returns the index of the entity's row of key and value, or -1.
// Duplicates are found by a scan of this entity's rows while they are few
// (most entities), then through a map of their indexes.
func (w *searchWalker) find(key, value string) int {
	if w.seen == nil && len(w.rows)-w.start > linearDedupe {
		w.seen = make(map[searchID]int, 2*linearDedupe)
		for i, r := range w.rows[w.start:] {
			w.seen[searchID{r.Key, r.Value}] = w.start + i
		}
	}
	if w.seen != nil {
		if i, ok := w.seen[searchID{key, value}]; ok {
			return i
		}
		return -1
	}
	for i := w.start; i < len(w.rows); i++ {
		if r := &w.rows[i]; r.Key == key && r.Value == value {
			return i
		}
	}
	return -1
}

// emit appends the row of key and s unless the entity has it already, and
// returns the index of the entity's row of key and s, or -1 when the key is
// too long to be kept.
func (w *searchWalker) emit(key, s string, null bool) int {
	if len(key) > maxSearchKey {
		return -1
	}
	r := SearchRecord{EID: w.eid, Key: key}
	if !null && len(s) <= maxSearchValue {
		r.Value = strings.ToLower(s)
		if r.Value != s {
			if len(w.origs) == cap(w.origs) {
				w.origs = make([]string, 0, 8) // earlier rows keep pointing into the last slab
			}
			w.origs = append(w.origs, s)
			r.Original = &w.origs[len(w.origs)-1]
		}
	}
	if i := w.find(key, r.Value); i >= 0 {
		return i
	}
	if w.seen != nil {
		w.seen[searchID{key, r.Value}] = len(w.rows)
	}
	w.rows = append(w.rows, r)
	return len(w.rows) - 1
}

// walk appends the rows of v, the value at key prefix.
func (w *searchWalker) walk(prefix string, v any) {
	switch t := v.(type) {
	case map[string]any:
		var buf [32]string
		keys := buf[:0]
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
			c := w.child(prefix, k)
			if !w.withColumns && (prefix == "" || prefix == "metadata") && ColumnKeys[c] {
				continue // served from the entities table's kind and name columns
			}
			w.walk(c, t[k])
		}
	case []any:
		for _, item := range t {
			str, ok := item.(string)
			if !ok {
				w.walk(prefix, item)
				continue
			}
			i := w.emit(prefix, str, false)
			// Like Backstage, a string in a list is also a key of its own:
			// metadata.tags: [java] matches both metadata.tags=java and
			// metadata.tags.java=true. That key is the item's row, marked.
			if i >= 0 && str != "" && len(str) <= maxSearchValue && len(prefix)+1+len(w.rows[i].Value) <= maxSearchKey {
				w.rows[i].Item = true
			}
		}
	case string:
		w.emit(prefix, t, false)
	case bool:
		w.emit(prefix, strconv.FormatBool(t), false)
	case float64:
		w.emit(prefix, strconv.FormatFloat(t, 'f', -1, 64), false)
	case int:
		w.emit(prefix, strconv.Itoa(t), false)
	case int64:
		w.emit(prefix, strconv.FormatInt(t, 10), false)
	case uint64:
		w.emit(prefix, strconv.FormatUint(t, 10), false)
	case nil:
		w.emit(prefix, "", true)
	}
}

// ItemSplit is one way a search key can be an item key: the key is Prefix,
// a dot and Value, the list Prefix holding the string item Value.
type ItemSplit struct{ Prefix, Value string }

// ItemKeys returns the ways key (in lower case) can be the key of a list's
// string item, which the search table does not store as a row of its own: a
// row of Prefix and Value marked Item stands for the row key=ItemValue. A
// key of no dot, or longer than the table keeps, has none.
func ItemKeys(key string) []ItemSplit {
	if len(key) > maxSearchKey {
		return nil
	}
	var out []ItemSplit
	for i := 1; i < len(key)-1; i++ {
		if key[i] == '.' {
			out = append(out, ItemSplit{Prefix: key[:i], Value: key[i+1:]})
		}
	}
	return out
}

// ExpandItems returns rows with the row each Item row stands for
// (Key.Value=ItemValue) after it, unless rows has that key and value already,
// and every Item mark cleared: the rows as a table that stores item keys as
// rows of their own holds them.
func ExpandItems(rows []SearchRecord) []SearchRecord {
	type id struct {
		eid        int64
		key, value string
	}
	has := make(map[id]bool, len(rows))
	for _, r := range rows {
		has[id{r.EID, r.Key, r.Value}] = true
	}
	out := make([]SearchRecord, 0, len(rows)+len(rows)/4)
	for _, r := range rows {
		item := r.Item
		r.Item = false
		out = append(out, r)
		if item {
			k := id{r.EID, r.Key + "." + r.Value, ItemValue}
			if !has[k] {
				has[k] = true
				out = append(out, SearchRecord{EID: r.EID, Key: k.key, Value: ItemValue})
			}
		}
	}
	return out
}

// MergeItemFacet adds to base, a facet's counts of the search rows of its
// key (values in byte order of their lower case), items: the count of the
// entities only item rows give the key's ItemValue (none, or one count, with
// the spelling the key's ItemValue is shown by), as one value.
func MergeItemFacet(base, items []FacetCount) []FacetCount {
	if len(items) == 0 || items[0].Count == 0 {
		return base
	}
	it := items[0]
	i, found := slices.BinarySearchFunc(base, ItemValue, func(fc FacetCount, v string) int {
		return strings.Compare(strings.ToLower(fc.Value), v)
	})
	if found {
		out := slices.Clone(base)
		out[i] = FacetCount{Value: it.Value, Count: base[i].Count + it.Count}
		return out
	}
	return slices.Insert(slices.Clone(base), i, it)
}
