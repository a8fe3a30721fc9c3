package catalogsql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// Dialect is how a database spells what the shared conditions need.
type Dialect struct {
	// Postgres selects PostgreSQL's spelling ($n placeholders, = ANY for
	// lists, TRUE, text compared in the "C" collation); SQLite's otherwise.
	Postgres bool
	// CreatedArg turns a value of the creation order, as keysets and filters
	// carry it, into the argument compared to the eid column; nil passes the
	// value as it is.
	CreatedArg func(v string) any
	// KnownKey, when set, gives the id of a search key known to be stored,
	// so a statement names the id as a value the planner sees rather than a
	// subquery whose result it must guess; a key it does not know is looked
	// up in the statement (KeyID).
	KnownKey func(key string) (id any, ok bool)
	// KindInKey says the entities' kind is only the part of their key
	// before ":" (an expression, as in a history's catalog at an instant,
	// not a column with an index): a kind condition is then rendered as
	// ranges of the key, which an index on the key serves, instead of a
	// test of every row's kind.
	KindInKey bool
	// ItemRows says the search table stores a list's string item as one row
	// marked item (metadata.tags=java), which stands for the item's key too
	// (metadata.tags.java=true, catalogstore.ItemKeys): conditions, searches
	// and sorts on such a key read the marked rows as well. Without it, every
	// item's key is a row of its own.
	ItemRows bool
	// NoColumnRows says the search table holds no rows of
	// catalogstore.ColumnKeys (kind, metadata.name): searches and facets on
	// them read the entities' columns (ColumnFor) instead. Conditions and
	// sorts on them read the columns in every dialect.
	NoColumnRows bool
}

// Args collects the arguments of a statement and renders their placeholders
// in the dialect's spelling. With SQLite's "?" the arguments must be added in
// the order the text names them; with PostgreSQL's "$n" in any order.
type Args struct {
	d    Dialect
	vals []any
	// spanLo and spanBelow bound the eids of the search rows a per-row
	// lookup reads (FromEid); span is their rendering, made at its first use.
	spanLo, spanBelow any
	span              string
}

// NewArgs returns empty arguments for d.
func NewArgs(d Dialect) *Args { return &Args{d: d} }

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.vals = append(a.vals, v)
	if a.d.Postgres {
		return "$" + strconv.Itoa(len(a.vals))
	}
	return "?"
}

// FromEid makes the per-row search lookups Condition renders next keep to
// search rows whose eid is at least lo and, unless below is nil, less than
// below; a nil lo lifts the bounds. The values are added as arguments where
// a lookup first names them. It changes no answer for a filter that only
// entities with such eids match. A count has no order, and PostgreSQL merges
// a value's search rows with a kind's eids, both in eid order, each from its
// start: where the kinds were folded in runs (a first ingestion, file by
// file), a bound at the kind's first eid keeps the merge from reading the
// other kinds' rows of that value before the kind's. (In a history's catalog
// at an instant the eid is the key, whose start is the kind: the bounds are
// the kinds' keys.) PostgreSQL's spelling only: the placeholders are named
// again after their first use.
func (a *Args) FromEid(lo, below any) { a.spanLo, a.spanBelow, a.span = lo, below, "" }

// eidSpan renders the bounds FromEid set.
func (a *Args) eidSpan() string {
	if a.spanLo == nil {
		return ""
	}
	if a.span == "" {
		a.span = " AND s.eid >= " + a.Add(a.spanLo)
		if a.spanBelow != nil {
			a.span += " AND s.eid < " + a.Add(a.spanBelow)
		}
	}
	return a.span
}

// Dialect returns the dialect the arguments render placeholders in.
func (a *Args) Dialect() Dialect { return a.d }

// Values returns the arguments in the order they were added.
func (a *Args) Values() []any { return a.vals }

// in renders col matching any of vals: "col IN (?,?)" in SQLite; in
// PostgreSQL "col = $n" for one value (a btree can then return rows in order,
// which it cannot for = ANY), "col = ANY($n)" for several.
func (a *Args) in(col string, vals []string) string {
	if a.d.Postgres {
		if len(vals) == 1 {
			return col + " = " + a.Add(vals[0])
		}
		return col + " = ANY(" + a.Add(vals) + ")"
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.Add(v)
	}
	return col + " IN (" + strings.Join(ph, ",") + ")"
}

// inArgs renders col matching any of vals, which need not be strings.
func (a *Args) inArgs(col string, vals []any) string {
	if a.d.Postgres {
		if len(vals) == 1 {
			return col + " = " + a.Add(vals[0])
		}
		return col + " = ANY(" + a.Add(vals) + ")"
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.Add(v)
	}
	return col + " IN (" + strings.Join(ph, ",") + ")"
}

// KeyID renders the id of the search key the placeholder ph names: search
// rows name their key by the id the search_keys table gives it. A key no row
// has yields NULL, which matches nothing.
func KeyID(ph string) string { return `(SELECT id FROM search_keys WHERE key = ` + ph + `)` }

// keyID renders the id of search key key: a value when the dialect knows it,
// else KeyID's lookup.
func (a *Args) keyID(key string) string {
	if a.d.KnownKey != nil {
		if id, ok := a.d.KnownKey(key); ok {
			return a.Add(id)
		}
	}
	return KeyID(a.Add(key))
}

// True is the condition that always holds.
func (d Dialect) True() string {
	if d.Postgres {
		return "TRUE"
	}
	return "1=1"
}

// ColumnFor maps search keys that are also entity columns to the column.
var ColumnFor = map[string]string{
	catalogstore.CreationOrder: "e.eid",
	catalogstore.KeyOrder:      "e.key",
	"kind":                     "e.kind",
	"metadata.name":            "e.name",
	"metadata.namespace":       "e.namespace",
	"metadata.uid":             "e.uid",
}

// Mode says how a filter's search conditions are rendered.
type Mode int

const (
	// Set renders search conditions as IN lists of matching eids: best when
	// every candidate row is visited (counts, facets).
	Set Mode = iota
	// PerRow renders them as correlated EXISTS lookups on the search table's
	// primary key: best when rows are read in index order and a page stops early.
	PerRow
	// PerRowNoColumnIndex is PerRow with the entity columns kept from their
	// indexes (SQLite's unary +), so the planner drives from another condition.
	PerRowNoColumnIndex
	// PerRowKindRange is PerRow with a kind condition of one value written as
	// the range kind >= k AND kind <= k, which matches the same rows. An
	// equality makes PostgreSQL treat kind as a constant, so every index that
	// returns rows in the page's order looks as good as the one that leads
	// with kind, and the planner, assuming each kind spread evenly over the
	// others, may choose one that walks the whole catalog in that order and
	// drops the other kinds as it goes. With the range, a page ordered by kind
	// first can only be read in order from an index that leads with kind: only
	// rows of that kind are read.
	PerRowKindRange
)

// Filter renders f as a condition over entities e.
func Filter(f catalogstore.Filter, mode Mode, a *Args) string {
	if len(f) == 0 {
		return a.d.True()
	}
	ors := make([]string, 0, len(f))
	for _, conj := range f {
		if len(conj) == 0 {
			ors = append(ors, a.d.True())
			continue
		}
		ands := make([]string, 0, len(conj))
		for _, c := range conj {
			ands = append(ands, Condition(c, mode, a))
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

func lowerAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}

// Condition renders one condition over entities e.
func Condition(c catalogstore.Condition, mode Mode, a *Args) string {
	key := strings.ToLower(c.Key)
	if rel, ok := strings.CutPrefix(key, "relations."); ok {
		// Each relation is stored once, by the entity that declares it (its
		// origin): e has relation rel when it declares it, or when another
		// entity declares one toward e whose reverse is rel.
		if len(c.Values) == 0 {
			return `(e.eid IN (SELECT origin FROM relations WHERE ltype = ` + a.Add(rel) + `) OR e.key IN (SELECT target FROM relations WHERE lreverse = ` + a.Add(rel) + `))`
		}
		vals := lowerAll(c.Values)
		return `(e.eid IN (SELECT origin FROM relations WHERE ltype = ` + a.Add(rel) + ` AND ` + a.in("target", vals) + `) OR e.key IN (SELECT r.target FROM relations r JOIN entities o ON o.eid = r.origin WHERE r.lreverse = ` + a.Add(rel) + ` AND ` + a.in("o.key", vals) + `))`
	}
	if col, ok := ColumnFor[key]; ok {
		if len(c.Values) == 0 {
			return a.d.True()
		}
		vals := lowerAll(c.Values)
		if key == catalogstore.CreationOrder && a.d.CreatedArg != nil {
			args := make([]any, len(vals))
			for i, v := range vals {
				args[i] = a.d.CreatedArg(v)
			}
			return a.inArgs(col, args)
		}
		if key == "metadata.uid" {
			// uids keep their case in the column; match either spelling.
			vals = append(vals, c.Values...)
		}
		if mode == PerRowNoColumnIndex {
			col = "+" + col
		}
		if key == "kind" && a.d.KindInKey {
			// The keys of kind k are those from "k:" up to "k;", ";"
			// being the byte after ":". Several kinds are also bounded by
			// the range from the first kind's to the last's, which an
			// index scan in key order can seek: an OR of ranges it cannot.
			if len(vals) == 1 {
				return "(e.key >= " + a.Add(vals[0]+":") + " AND e.key < " + a.Add(vals[0]+";") + ")"
			}
			ors := make([]string, len(vals))
			for i, v := range vals {
				ors[i] = "(e.key >= " + a.Add(v+":") + " AND e.key < " + a.Add(v+";") + ")"
			}
			return "(e.key >= " + a.Add(slices.Min(vals)+":") + " AND e.key < " + a.Add(slices.Max(vals)+";") + " AND (" + strings.Join(ors, " OR ") + "))"
		}
		if mode == PerRowKindRange && key == "kind" && len(vals) == 1 {
			if a.d.Postgres {
				ph := a.Add(vals[0])
				return "(" + col + " >= " + ph + " AND " + col + " <= " + ph + ")"
			}
			return "(" + col + " >= " + a.Add(vals[0]) + " AND " + col + " <= " + a.Add(vals[0]) + ")"
		}
		return a.in(col, vals)
	}
	if mode != Set || a.d.Postgres {
		if len(c.Values) == 0 {
			return withItems(`EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = `+a.keyID(key)+a.eidSpan()+`)`, c, key, mode, a)
		}
		return withItems(`EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = `+a.keyID(key)+` AND `+a.in("s.value", lowerAll(c.Values))+a.eidSpan()+`)`, c, key, mode, a)
	}
	if len(c.Values) == 0 {
		return withItems(`e.eid IN (SELECT eid FROM search WHERE kid = `+a.keyID(key)+`)`, c, key, mode, a)
	}
	return withItems(`e.eid IN (SELECT eid FROM search WHERE kid = `+a.keyID(key)+` AND `+a.in("value", lowerAll(c.Values))+`)`, c, key, mode, a)
}

// MayBeItemKey says whether c, on search key key (in lower case), can match
// an item key the dialect does not store as rows of its own (Dialect.ItemRows):
// key has a dot, and c asks for the key's existence or for ItemValue.
func (d Dialect) MayBeItemKey(c catalogstore.Condition, key string) bool {
	if !d.ItemRows || len(catalogstore.ItemKeys(key)) == 0 {
		return false
	}
	return len(c.Values) == 0 || slices.ContainsFunc(c.Values, func(v string) bool { return strings.ToLower(v) == catalogstore.ItemValue })
}

// withItems adds to cond, c's condition on the search rows of key, the
// entities whose marked item rows stand for key (Dialect.ItemRows).
func withItems(cond string, c catalogstore.Condition, key string, mode Mode, a *Args) string {
	if !a.d.MayBeItemKey(c, key) {
		return cond
	}
	if mode != Set || a.d.Postgres {
		return `(` + cond + ` OR EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.item AND ` + a.ItemMatch("s", key) + `))`
	}
	return `(` + cond + ` OR e.eid IN (SELECT eid FROM search WHERE item AND ` + a.ItemMatch("search", key) + `))`
}

// ItemMatch renders the condition that a search row, of alias, is a list's
// item whose key (its list's key, a dot and the item) is key: one of
// catalogstore.ItemKeys(key). The caller tests the row's item mark.
func (a *Args) ItemMatch(alias, key string) string {
	splits := catalogstore.ItemKeys(key)
	ors := make([]string, len(splits))
	for i, sp := range splits {
		ors[i] = `(` + alias + `.kid = ` + a.keyID(sp.Prefix) + ` AND ` + alias + `.value = ` + a.Add(sp.Value) + `)`
	}
	return `(` + strings.Join(ors, " OR ") + `)`
}

// FullText renders ft as a condition over entities e: a value of one of its
// fields (of any field when none) contains the term, case-insensitively.
func FullText(ft catalogstore.FullText, a *Args) string {
	term := strings.TrimSpace(strings.ToLower(ft.Term))
	if term == "" {
		return a.d.True()
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term) + "%"
	if len(ft.Fields) == 0 {
		return withItemText(a.WithColumnText(`e.eid IN (SELECT eid FROM search WHERE value LIKE `+a.Add(like)+` ESCAPE '\')`, nil, like), term, nil, a)
	}
	fields := a.in("key", lowerAll(ft.Fields))
	return withItemText(a.WithColumnText(`e.eid IN (SELECT eid FROM search WHERE kid IN (SELECT id FROM search_keys WHERE `+fields+`) AND value LIKE `+a.Add(like)+` ESCAPE '\')`, ft.Fields, like), term, ft.Fields, a)
}

// TextColumns returns the columns of entities e a full-text search in fields
// (every field when nil) tests besides the search rows, where the dialect
// keeps the ColumnKeys' values in columns alone (Dialect.NoColumnRows): in
// the order of catalogstore.ColumnKeys's keys, kind then metadata.name.
func (d Dialect) TextColumns(fields []string) []string {
	if !d.NoColumnRows {
		return nil
	}
	var out []string
	for _, key := range []string{"kind", "metadata.name"} {
		if len(fields) == 0 || slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(f, key) }) {
			out = append(out, ColumnFor[key])
		}
	}
	return out
}

// WithColumnText adds to cond, a full-text search (whose LIKE pattern is
// like) in fields (every field when nil) over search rows, the same search
// in the columns TextColumns names: their values are in lower case, as the
// search rows' are, and short enough to be kept whole.
func (a *Args) WithColumnText(cond string, fields []string, like string) string {
	cols := a.d.TextColumns(fields)
	if len(cols) == 0 {
		return cond
	}
	ors := []string{cond}
	ph := ""
	for _, col := range cols {
		if ph == "" || !a.d.Postgres {
			ph = a.Add(like)
		}
		ors = append(ors, col+` LIKE `+ph+` ESCAPE '\'`)
	}
	return `(` + strings.Join(ors, " OR ") + `)`
}

// ColumnFacet returns, for a facet on key where the dialect keeps its values
// in a column alone (Dialect.NoColumnRows, catalogstore.ColumnKeys), the
// column of entities e it counts and the expression over the entities o of
// a value that shows the value as written (the first entity's spelling, as
// the search rows' facet shows): a kind from the body, a name from the ref,
// whose kind and namespace are in lower case but not its name. ok is false
// for any other key.
func (d Dialect) ColumnFacet(key string) (col, spelling string, ok bool) {
	if !d.NoColumnRows {
		return "", "", false
	}
	switch key {
	case "kind":
		if d.Postgres {
			return "e.kind", `(convert_from(o.body, 'UTF8')::json ->> 'kind')`, true
		}
		return "e.kind", `json_extract(CAST(o.body AS TEXT), '$.kind')`, true
	case "metadata.name":
		if d.Postgres {
			return "e.name", `substr(o.ref, strpos(o.ref, '/') + 1)`, true
		}
		return "e.name", `substr(o.ref, instr(o.ref, '/') + 1)`, true
	}
	return "", "", false
}

// ColumnFacetStatement renders the statement of a facet on a key ColumnFacet
// serves, over the entities of from (a FROM clause over entities e and its
// WHERE, the arguments of which the caller adds), as FacetStatement's rows:
// each value of the column, in byte order, shown as its first entity's
// spelling, and how many entities have it. The first entity of a value is
// found by its eid alone, which an index that leads with the column and
// holds the eid (entities_kind_eid) gives without reading a row: asked for
// the row itself in eid order, PostgreSQL walked the primary key from its
// start testing each row's kind, as it guessed the kinds evenly spread
// (38 ms for the kind facet of 10,000 entities, 8 kinds).
func ColumnFacetStatement(col, spelling, from string) string {
	x := strings.Replace(col, "e.", "x.", 1)
	inner := `SELECT ` + col + ` AS value, count(*) AS n FROM ` + from + ` GROUP BY ` + col
	first := `(SELECT x.eid FROM entities x WHERE ` + x + ` = f.value ORDER BY x.eid LIMIT 1)`
	return FacetStatement(`(SELECT `+spelling+` FROM entities o WHERE o.eid = `+first+`)`, inner, "")
}

// ItemText says which item keys' values (ItemValue) hold term, a full-text
// search's term in lower case, in fields (every field when nil), where the
// dialect does not store item keys as rows (Dialect.ItemRows): any is true
// when every field is searched, keys are the searched fields that can be
// item keys. Neither when ItemValue does not contain term.
func (d Dialect) ItemText(term string, fields []string) (any bool, keys []string) {
	if !d.ItemRows || !strings.Contains(catalogstore.ItemValue, term) {
		return false, nil
	}
	if fields == nil {
		return true, nil
	}
	for _, f := range lowerAll(fields) {
		if len(catalogstore.ItemKeys(f)) > 0 {
			keys = append(keys, f)
		}
	}
	return false, keys
}

// withItemText adds to cond, a full-text search of term in fields (every
// field when nil), the entities whose item keys' values hold term.
func withItemText(cond, term string, fields []string, a *Args) string {
	anyKey, keys := a.d.ItemText(term, fields)
	switch {
	case anyKey:
		return `(` + cond + ` OR e.eid IN (SELECT eid FROM search WHERE item))`
	case len(keys) > 0:
		ors := make([]string, len(keys))
		for i, k := range keys {
			ors[i] = a.ItemMatch("search", k)
		}
		return `(` + cond + ` OR e.eid IN (SELECT eid FROM search WHERE item AND (` + strings.Join(ors, " OR ") + `)))`
	}
	return cond
}

// SortExpr returns the expression over entities e that sorts by field, and
// whether it is the creation order (an eid, not text). Entities without the
// field sort last in either direction, as in Backstage.
func SortExpr(field string, desc bool, a *Args) (expr string, created bool) {
	key := strings.ToLower(field)
	if col, ok := ColumnFor[key]; ok {
		return col, key == catalogstore.CreationOrder
	}
	missing := catalogstore.MissingSortValue
	if desc {
		missing = ""
	}
	if a.d.ItemRows && len(catalogstore.ItemKeys(key)) > 0 {
		// The smallest of the key's values and, when its item rows stand
		// for the key, ItemValue.
		vals := `SELECT s.value AS v FROM search s WHERE s.eid = e.eid AND s.kid = ` + a.keyID(key) + ` AND s.value <> ''
			UNION ALL SELECT '` + catalogstore.ItemValue + `' FROM search s WHERE s.eid = e.eid AND s.item AND ` + a.ItemMatch("s", key)
		if a.d.Postgres {
			return `COALESCE((SELECT MIN(m.v) FROM (` + vals + `) m), ` + a.Add(missing) + `::text COLLATE "C")`, false
		}
		return `COALESCE((SELECT MIN(m.v) FROM (` + vals + `) m), '` + missing + `')`, false
	}
	if a.d.Postgres {
		return `COALESCE((SELECT MIN(s.value) FROM search s WHERE s.eid = e.eid AND s.kid = ` + a.keyID(key) +
			` AND s.value <> ''), ` + a.Add(missing) + `::text COLLATE "C")`, false
	}
	return `COALESCE((SELECT MIN(value) FROM search s WHERE s.eid = e.eid AND s.kid = ` + a.keyID(key) + ` AND s.value <> ''), '` + missing + `')`, false
}

// ItemLists returns the lists a facet on key (in lower case) counts the
// item rows of, when the dialect derives item keys (Dialect.ItemRows;
// MayBeItemKey of an existence condition): the prefixes of
// catalogstore.ItemKeys(key). Only an item row's list is a search key of its
// own, so the facet needs its item rows' part (ItemFacet) only when one of
// them is stored in search_keys. Most keys have none stored (spec.type:
// spec is no key at all); a store looks the lists of every facet of a
// request up at once, and renders the part for those keys alone.
func (d Dialect) ItemLists(key string) []string {
	if !d.MayBeItemKey(catalogstore.Condition{Key: key}, key) {
		return nil
	}
	splits := catalogstore.ItemKeys(key)
	out := make([]string, len(splits))
	for i, sp := range splits {
		out[i] = sp.Prefix
	}
	return out
}

// ItemFacet is the statement of the item rows' part of a facet on key, when
// the dialect derives item keys (ItemLists): one row, when there is one, of
// the spelling that key's ItemValue shows by and how many entities matching
// where (every entity when where is nil) have the key's ItemValue from
// marked item rows alone (catalogstore.MergeItemFacet adds it to the facet of
// the key's own rows). As for the key's own rows, the spelling is that of
// the entity created first: ItemValue itself when that is an item row's.
// where renders its condition over entities e into a, in the text's order.
// A store renders it only when one of key's lists is a stored search key
// (ItemLists), within the facet's own statement (FacetStatement).
func ItemFacet(key string, a *Args, where func() string) string {
	only := func(alias string) string {
		return alias + `.item AND ` + a.ItemMatch(alias, key) + ` AND NOT EXISTS (SELECT 1 FROM search r WHERE r.eid = ` + alias +
			`.eid AND r.kid = ` + a.keyID(key) + ` AND r.value = '` + catalogstore.ItemValue + `')`
	}
	own := func() string {
		return `(SELECT min(r.eid) FROM search r WHERE r.kid = ` + a.keyID(key) + ` AND r.value = '` + catalogstore.ItemValue + `')`
	}
	spelling := `CASE WHEN ` + own() + ` IS NULL OR (SELECT min(x.eid) FROM search x WHERE ` + only("x") + `) < ` + own() +
		` THEN '` + catalogstore.ItemValue + `' ELSE (SELECT COALESCE(s2.original, s2.value) FROM search s2 WHERE s2.kid = ` + a.keyID(key) +
		` AND s2.value = '` + catalogstore.ItemValue + `' ORDER BY s2.eid LIMIT 1) END`
	stmt := `SELECT ` + spelling + ` AS v, count(DISTINCT d.eid) AS n FROM search d WHERE ` + only("d")
	if where != nil {
		stmt += ` AND d.eid IN (SELECT e.eid FROM entities e WHERE ` + where() + `)`
	}
	return `SELECT f.v, f.n FROM (` + stmt + `) f WHERE f.n > 0`
}

// FacetStatement renders the one statement of a facet on a search key, of
// rows (value, count, item) in order: the groups of inner, rows (value, n)
// of the key's own search rows (value in lower case), each shown as
// spelling (an expression over f.value) with item false, in byte order of
// their value; then, when items is not empty (ItemFacet's statement,
// rendered after spelling and inner into the same arguments), its row with
// item true, which catalogstore.MergeItemFacet adds to the others. One
// statement, not two: PostgreSQL plans every statement for its values
// (pgkit), and a second one cost a second planning of a dozen subqueries,
// most often to read nothing (uncached facets by owner at 30,000 entities:
// 2.0 ms before item rows, 5.4 ms with the second statement).
func FacetStatement(spelling, inner, items string) string {
	if items == "" {
		return `SELECT ` + spelling + ` AS v, f.n AS n, FALSE AS item FROM (` + inner + `) f ORDER BY f.value`
	}
	return `SELECT u.v, u.n, u.item FROM (SELECT ` + spelling + ` AS v, f.n AS n, f.value AS o, FALSE AS item FROM (` + inner + `) f
		UNION ALL SELECT i.v, i.n, NULL, TRUE FROM (` + items + `) i) u ORDER BY u.item, u.o`
}

// Dir is the SQL of a sort direction.
func Dir(desc bool) string {
	if desc {
		return "DESC"
	}
	return "ASC"
}

func cmpOp(gt bool) string {
	if gt {
		return ">"
	}
	return "<"
}

// KeysetCond renders "after ks" (or, with before, "before ks") over the sort
// columns s0..sn of order, then key. created says which sort columns are the
// creation order (SortExpr's second answer).
func KeysetCond(order []catalogstore.Order, created []bool, ks *catalogstore.Keyset, before bool, a *Args) string {
	val := func(i int) any {
		v := ""
		if i < len(ks.Values) {
			v = ks.Values[i]
		}
		if created[i] && a.d.CreatedArg != nil {
			return a.d.CreatedArg(v)
		}
		return v
	}
	col := func(i int) string {
		if a.d.Postgres && !created[i] {
			return fmt.Sprintf(`s%d COLLATE "C"`, i)
		}
		return fmt.Sprintf("s%d", i)
	}
	n := len(order)
	var cond string
	if n > 0 {
		// A plain range on the first column lets the database seek in its
		// index instead of testing the OR below on every row.
		op := "<="
		if !order[0].Desc != before {
			op = ">="
		}
		cond = col(0) + " " + op + " " + a.Add(val(0)) + " AND "
	}
	ors := make([]string, 0, n+1)
	for i := 0; i <= n; i++ {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, col(j)+" = "+a.Add(val(j)))
		}
		if i < n {
			gt := !order[i].Desc != before
			ands = append(ands, col(i)+" "+cmpOp(gt)+" "+a.Add(val(i)))
		} else {
			ands = append(ands, "key "+cmpOp(!before)+" "+a.Add(ks.Key))
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return cond + "(" + strings.Join(ors, " OR ") + ")"
}

// RelationFacet is the statement of a relations.<type> facet: each target
// (grouped by key, shown by its smallest spelling in byte order, so every
// adapter shows the same one) and how many entities matching where relate to
// it. An entity's relations of a type are those it declares and the
// reverses, of that type, of those declared toward it. ph is the
// placeholder of the type, bound twice (SQLite's "?" once per use, in
// order: the type, where's arguments, the type, where's arguments again).
func RelationFacet(ph, where string) string {
	return `SELECT min(x.target_ref), count(DISTINCT x.source) FROM (
		SELECT e.key AS source, r.target AS target, r.target_ref AS target_ref
			FROM relations r JOIN entities e ON e.eid = r.origin WHERE r.ltype = ` + ph + ` AND ` + where + `
		UNION ALL
		SELECT e.key, o.key, o.ref FROM relations r JOIN entities o ON o.eid = r.origin JOIN entities e ON e.key = r.target
			WHERE r.lreverse = ` + ph + ` AND ` + where + `
	) x GROUP BY x.target ORDER BY x.target`
}

// KindPart is what the entities of one kind must match to match a filter.
type KindPart struct {
	// Kind is the kind, lower-cased as the kind column holds it.
	Kind string
	// Filter is the filter's conjunctions that admit Kind, without their
	// kind conditions (each holds for an entity of Kind).
	Filter catalogstore.Filter
}

// SplitByKind splits f into one part per kind it admits, in byte order of the
// kinds, when every conjunction of f names its kinds and together they name
// at most most: an entity matches f exactly when it is of one part's kind and
// matches that part's filter. A store can then read each kind's rows in
// order from an index that leads with kind and merge the few it needs (a
// page), where one condition on several kinds leaves the planner a walk over
// every kind in page order. It answers false for a filter some conjunction
// of which admits any kind (no kind condition, or a bare kind key), that
// admits no kind at all, or that names more than most kinds.
func SplitByKind(f catalogstore.Filter, most int) ([]KindPart, bool) {
	if len(f) == 0 {
		return nil, false
	}
	admits := make([]map[string]bool, len(f))
	all := map[string]bool{}
	for i, conj := range f {
		var set map[string]bool
		for _, c := range conj {
			if !strings.EqualFold(c.Key, "kind") {
				continue
			}
			if len(c.Values) == 0 {
				continue // a bare key: every entity has a kind
			}
			vals := map[string]bool{}
			for _, v := range c.Values {
				v = strings.ToLower(v)
				if set == nil || set[v] {
					vals[v] = true
				}
			}
			set = vals
		}
		if set == nil {
			return nil, false
		}
		admits[i] = set
		for k := range set {
			all[k] = true
		}
	}
	if len(all) == 0 || len(all) > most {
		return nil, false
	}
	kinds := make([]string, 0, len(all))
	for k := range all {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	parts := make([]KindPart, 0, len(kinds))
	for _, k := range kinds {
		var pf catalogstore.Filter
		for i, conj := range f {
			if !admits[i][k] {
				continue
			}
			rest := make([]catalogstore.Condition, 0, len(conj))
			for _, c := range conj {
				if !strings.EqualFold(c.Key, "kind") {
					rest = append(rest, c)
				}
			}
			pf = append(pf, rest)
		}
		parts = append(parts, KindPart{Kind: k, Filter: pf})
	}
	return parts, true
}

// KindRange renders "kind is k" over entities e as the range
// e.kind >= k AND e.kind <= k (see PerRowKindRange for why).
func KindRange(k string, a *Args) string {
	if a.d.Postgres {
		ph := a.Add(k)
		return "(e.kind >= " + ph + " AND e.kind <= " + ph + ")"
	}
	return "(e.kind >= " + a.Add(k) + " AND e.kind <= " + a.Add(k) + ")"
}
