package sqlitecatalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

// smallResult is the count up to which a page is fetched by its matches rather
// than by scanning in order.
const smallResult = 5000

// dialect is SQLite's spelling of the conditions the adapters share.
var dialect = catalogsql.Dialect{ItemRows: true, NoColumnRows: true}

// render renders a condition with its arguments, which SQLite's "?"
// placeholders take in the order of the text.
func render(fn func(a *catalogsql.Args) string) (string, []any) {
	a := catalogsql.NewArgs(dialect)
	return fn(a), a.Values()
}

// whereFilter renders f as a SQL condition over entities e, with search
// conditions as IN lists: best when every candidate row is visited (counts, facets).
func whereFilter(f catalogstore.Filter) (string, []any) {
	return render(func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.Set, a) })
}

// wherePerRow renders f with correlated EXISTS lookups on the search table's
// primary key: best when rows are read in index order and a page stops early.
func wherePerRow(f catalogstore.Filter) (string, []any) {
	return render(func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.PerRow, a) })
}

// whereNoColumnIndex renders f like wherePerRow with the entity columns kept
// from their indexes (catalogsql.PerRowNoColumnIndex).
func whereNoColumnIndex(f catalogstore.Filter) (string, []any) {
	return render(func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.PerRowNoColumnIndex, a) })
}

// nameKeys are the search keys the names trigram index (migration
// 0002_name_search.sql) holds; its triggers name the same keys.
var nameKeys = map[string]bool{"metadata.name": true, "metadata.title": true, "spec.profile.displayname": true}

// whereFullText renders ft. With useNames (fewNameMatches), a search in
// names and titles takes its candidates from the names trigram index and
// confirms each with the LIKE of catalogsql.FullText on the entity's own search
// rows, so it answers as the LIKE does without testing every name; otherwise
// it is that LIKE over every value of the fields, which beats confirming
// candidates one by one when most names match.
//
// With perRow (and not useNames), the LIKE is tested on each row's own search
// rows instead: best for a page read in index order that stops early, when
// many entities match (fewNameMatches said no).
func whereFullText(ft catalogstore.FullText, useNames, perRow bool) (string, []any) {
	phrase, ok := namePhrase(ft)
	term := strings.TrimSpace(strings.ToLower(ft.Term))
	if term == "" || (!perRow && (!ok || !useNames)) {
		return render(func(a *catalogsql.Args) string { return catalogsql.FullText(ft, a) })
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term) + "%"
	fields := lowerAll(ft.Fields)
	var where string
	var args []any
	if ok && useNames {
		where = `e.eid IN (SELECT rowid FROM names WHERE names MATCH ?) AND `
		args = append(args, phrase)
	}
	var text string
	if len(fields) == 0 {
		text = `EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.value LIKE ? ESCAPE '\')`
		args = append(args, like)
	} else {
		args = append(append(args, fields...), like)
		text = `EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid IN (SELECT id FROM search_keys WHERE key IN (` +
			placeholders(len(fields)) + `)) AND s.value LIKE ? ESCAPE '\')`
	}
	// The kind and name are in the entities' columns (catalogsql.Dialect.NoColumnRows).
	if cols := dialect.TextColumns(ft.Fields); len(cols) > 0 {
		ors := []string{text}
		for _, col := range cols {
			ors = append(ors, col+` LIKE ? ESCAPE '\'`)
			args = append(args, like)
		}
		text = `(` + strings.Join(ors, " OR ") + `)`
	}
	// Item keys hold ItemValue in their marked item rows (catalogsql.Dialect.ItemRows).
	anyKey, keys := dialect.ItemText(term, ft.Fields)
	switch {
	case anyKey:
		text = `(` + text + ` OR EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.item))`
	case len(keys) > 0:
		items, itemArgs := render(func(a *catalogsql.Args) string {
			ors := make([]string, len(keys))
			for i, k := range keys {
				ors[i] = a.ItemMatch("s", k)
			}
			return strings.Join(ors, " OR ")
		})
		text = `(` + text + ` OR EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.item AND (` + items + `)))`
		args = append(args, itemArgs...)
	}
	return where + text, args
}

// namePhrase returns the names index query of ft (its term as one phrase,
// which the trigram tokenizer matches as a substring), and whether the index
// serves ft: a term of three characters or more searched in name keys only.
func namePhrase(ft catalogstore.FullText) (string, bool) {
	term := strings.TrimSpace(strings.ToLower(ft.Term))
	if utf8.RuneCountInString(term) < 3 || len(ft.Fields) == 0 ||
		slices.ContainsFunc(ft.Fields, func(f string) bool { return !nameKeys[strings.ToLower(f)] }) {
		return "", false
	}
	if anyKey, keys := dialect.ItemText(term, ft.Fields); anyKey || len(keys) > 0 {
		return "", false // the names index holds no item key's ItemValue
	}
	return `"` + strings.ReplaceAll(term, `"`, `""`) + `"`, true
}

// fewNameMatches says whether ft is served by the names index and its
// candidates there number at most smallResult (counted no further).
func (s *Store) fewNameMatches(ctx context.Context, ft catalogstore.FullText) (bool, error) {
	phrase, ok := namePhrase(ft)
	if !ok {
		return false, nil
	}
	n, err := s.cachedCount(ctx, fmt.Sprintf(`(SELECT 1 FROM names WHERE names MATCH ? LIMIT %d)`, smallResult+1), []any{phrase})
	if err != nil {
		return false, err
	}
	return n <= smallResult, nil
}

// sortExpr returns the SQL expression that sorts by field.
func sortExpr(field string, desc bool) (string, []any) {
	return render(func(a *catalogsql.Args) string { expr, _ := catalogsql.SortExpr(field, desc, a); return expr })
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func lowerAll(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}

// Query returns a page of entities.
func (s *Store) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	var fewNames bool   // set below, before extra is called
	perRowText := false // set below for the page of a broad name search
	extra := func(where string, args []any) (string, []any) {
		ftWhere, ftArgs := whereFullText(q.FullText, fewNames, perRowText)
		where = where + " AND " + ftWhere
		args = append(args, ftArgs...)
		if q.LocationID != "" {
			where += " AND e.location_id = ?"
			args = append(args, q.LocationID)
		}
		return where, args
	}

	pw, pa, driven, err := s.plan(ctx, q.Filter)
	if err != nil {
		return catalogstore.Page{}, err
	}
	// A search in names that matches few entities drives the query from the
	// names index (when the filter does not drive it already): the filter's columns are kept from their indexes so the
	// planner does not scan a kind's every row to test each against the matches.
	fewNames, err = s.fewNameMatches(ctx, q.FullText)
	if err != nil {
		return catalogstore.Page{}, err
	}
	byName := fewNames && !driven
	var page catalogstore.Page
	if q.CountTotal {
		cw, ca := extra(whereFilter(q.Filter))
		switch {
		case driven:
			cw, ca = extra(pw, pa)
		case byName:
			cw, ca = extra(whereNoColumnIndex(q.Filter))
		}
		n, err := s.count(ctx, cw, ca)
		if err != nil {
			return catalogstore.Page{}, err
		}
		page.TotalItems = n
	}

	// A page of a large result is read in index order with per-row lookups and
	// stops early; a filter with a selective search condition is driven from that
	// condition's matches and sorted, which beats scanning the index order for
	// the few rows that match.
	var where string
	var args []any
	switch {
	case driven:
		where, args = extra(pw, pa)
	case byName:
		where, args = extra(whereNoColumnIndex(q.Filter))
	case q.Limit > 0:
		// A name search with many candidates tests each row in index order
		// until the page is full; any other search keeps its set of matches,
		// as a rare term would otherwise be tested on every row.
		_, perRowText = namePhrase(q.FullText)
		where, args = extra(wherePerRow(q.Filter))
	default:
		where, args = extra(whereFilter(q.Filter))
	}

	order := q.Order
	if len(order) == 0 {
		// Without an order, list in the order entities were created: the table and
		// the kind index hold rows in that order, so a page stops early instead of
		// sorting every match.
		order = []catalogstore.Order{{Field: catalogstore.CreationOrder}}
	}
	var sortCols []string
	var sortArgs []any
	for i, o := range order {
		expr, a := sortExpr(o.Field, o.Desc)
		sortCols = append(sortCols, fmt.Sprintf("%s AS s%d", expr, i))
		sortArgs = append(sortArgs, a...)
	}
	// The page is chosen on narrow rows (eid, key and the sort values), then
	// joined to the entities for the bodies of its rows only: sorting the
	// matches of a filter never carries their bodies along.
	selectCols := "e.eid, e.key"
	outerCols := "b.key, b.ref, b.uid, b.location_id, b.body, b.eid"
	if len(sortCols) > 0 {
		selectCols += ", " + strings.Join(sortCols, ", ")
		for i := range order {
			outerCols += fmt.Sprintf(", p.s%d", i)
		}
	}

	backward := q.Before != nil
	var keyCond string
	var keyArgs []any
	if ks := q.After; ks != nil {
		keyCond, keyArgs = keysetCond(order, ks, false)
	} else if ks := q.Before; ks != nil {
		keyCond, keyArgs = keysetCond(order, ks, true)
	}
	var orderParts, outerOrder []string
	for i, o := range order {
		desc := o.Desc != backward
		orderParts = append(orderParts, fmt.Sprintf("s%d %s", i, catalogsql.Dir(desc)))
		outerOrder = append(outerOrder, fmt.Sprintf("p.s%d %s", i, catalogsql.Dir(desc)))
	}
	orderParts = append(orderParts, "e.key "+catalogsql.Dir(backward))
	outerOrder = append(outerOrder, "p.key "+catalogsql.Dir(backward))

	inner := `SELECT ` + selectCols + ` FROM entities e WHERE ` + where
	all := append(append([]any{}, sortArgs...), args...)
	stmt := `SELECT * FROM (` + inner + `) e`
	if keyCond != "" {
		stmt += ` WHERE ` + keyCond
		all = append(all, keyArgs...)
	}
	stmt += ` ORDER BY ` + strings.Join(orderParts, ", ")
	if q.Limit > 0 {
		stmt += fmt.Sprintf(" LIMIT %d", q.Limit+1)
		if q.Offset > 0 && q.After == nil && q.Before == nil {
			stmt += fmt.Sprintf(" OFFSET %d", q.Offset)
		}
	} else if q.Offset > 0 {
		stmt += fmt.Sprintf(" LIMIT -1 OFFSET %d", q.Offset)
	}
	stmt = `SELECT ` + outerCols + ` FROM (` + stmt + `) p CROSS JOIN entities b ON b.eid = p.eid ORDER BY ` + strings.Join(outerOrder, ", ")
	rows, err := s.read.QueryContext(ctx, stmt, all...)
	if err != nil {
		return catalogstore.Page{}, fmt.Errorf("catalog store: query: %w", err)
	}
	defer rows.Close()
	var items []catalogstore.PageRow
	var eids []int64
	for rows.Next() {
		var it catalogstore.PageRow
		var eid int64
		dest := []any{&it.View.Key, &it.View.Ref, &it.View.UID, &it.View.LocationID, &it.View.Body, &eid}
		vals := make([]sql.NullString, len(order))
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return catalogstore.Page{}, err
		}
		it.Keyset.Key = it.View.Key
		for _, v := range vals {
			it.Keyset.Values = append(it.Keyset.Values, v.String)
		}
		items = append(items, it)
		eids = append(eids, eid)
	}
	if err := rows.Err(); err != nil {
		return catalogstore.Page{}, err
	}
	// FinishPage decorates the page's views after trimming and perhaps
	// reversing items in place: their row ids are found by key (unique).
	eidOf := make(map[string]int64, len(items))
	for i := range items {
		eidOf[items[i].View.Key] = eids[i]
	}
	return catalogstore.FinishPage(ctx, page, q, items, func(ctx context.Context, views []*catalogstore.EntityView) error {
		ids := make([]int64, len(views))
		for i, v := range views {
			ids[i] = eidOf[v.Key]
		}
		return s.decorate(ctx, views, ids)
	})
}

// keysetCond renders "after ks" (or "before ks") for the ordered columns s0..sn, e.key.
func keysetCond(order []catalogstore.Order, ks *catalogstore.Keyset, before bool) (string, []any) {
	return render(func(a *catalogsql.Args) string {
		return catalogsql.KeysetCond(order, make([]bool, len(order)), ks, before, a)
	})
}

// decorate loads relations and status items for the views; eids[i] is the
// row id of views[i]. Each of its three reads is one statement for all the
// views, whatever their number.
func (s *Store) decorate(ctx context.Context, views []*catalogstore.EntityView, eids []int64) error {
	if len(views) == 0 {
		return nil
	}
	byKey, keys := catalogstore.IndexViews(views)
	// Each relation is stored once, by the entity that declares it: an
	// entity's relations are those it declares and the reverses of those
	// declared toward it. NormalizeRelations sorts each view's relations and
	// drops the duplicates.
	if err := s.declaredRelations(ctx, views, eids); err != nil {
		return err
	}
	// In key order, the searches of relations_target (or of each bucket of
	// relations_target_bulk) go through its pages in order.
	slices.Sort(keys)
	unique := make([]*catalogstore.EntityView, len(keys))
	for i, k := range keys {
		unique[i] = byKey[k]
	}
	if err := s.reverseRelations(ctx, keys, unique); err != nil {
		return err
	}
	if err := s.statusItems(ctx, keys, byKey); err != nil {
		return err
	}
	for _, v := range unique {
		catalogstore.NormalizeRelations(v)
	}
	return nil
}

// statusItems adds to the views byKey the status items of those whose keys
// are in keys: the processing errors of each entity's file, and those of the
// location it registered, if any.
func (s *Store) statusItems(ctx context.Context, keys []string, byKey map[string]*catalogstore.EntityView) error {
	list, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	srows, err := s.queryRead(ctx, statusOfKeys, string(list))
	if err != nil {
		return fmt.Errorf("catalog store: status items: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var key string
		var raw []byte
		if err := srows.Scan(&key, &raw); err != nil {
			return err
		}
		var pe event.ProcessingError
		if err := json.Unmarshal(raw, &pe); err != nil {
			return err
		}
		if v := byKey[key]; v != nil {
			v.Status = append(v.Status, catalogstore.StatusItemOf(pe))
		}
	}
	return srows.Err()
}

// ByKeys returns the entities with the given keys, in order, nil where missing.
func (s *Store) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	out := make([]*catalogstore.EntityView, len(keys))
	found := map[string]*catalogstore.EntityView{}
	eidOf := map[string]int64{}
	const chunk = 500
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		args := make([]any, 0, end-start)
		for _, k := range keys[start:end] {
			args = append(args, strings.ToLower(k))
		}
		rows, err := s.read.QueryContext(ctx, `SELECT key, ref, uid, location_id, body, eid FROM entities WHERE key IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("catalog store: by keys: %w", err)
		}
		for rows.Next() {
			v := &catalogstore.EntityView{}
			var eid int64
			if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body, &eid); err != nil {
				rows.Close()
				return nil, err
			}
			found[v.Key], eidOf[v.Key] = v, eid
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	views := make([]*catalogstore.EntityView, 0, len(found))
	eids := make([]int64, 0, len(found))
	for _, v := range found {
		views, eids = append(views, v), append(eids, eidOf[v.Key])
	}
	if err := s.decorate(ctx, views, eids); err != nil {
		return nil, err
	}
	for i, k := range keys {
		out[i] = found[strings.ToLower(k)]
	}
	return out, nil
}

// ByUID returns the entity with the given uid.
func (s *Store) ByUID(ctx context.Context, uid string) (*catalogstore.EntityView, error) {
	var key string
	err := s.read.QueryRowContext(ctx, `SELECT key FROM entities WHERE uid = ?`, uid).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, catalogstore.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	vs, err := s.ByKeys(ctx, []string{key})
	if err != nil {
		return nil, err
	}
	if vs[0] == nil {
		return nil, catalogstore.ErrNotFound
	}
	return vs[0], nil
}

// count returns how many entities match a rendered filter.
func (s *Store) count(ctx context.Context, where string, args []any) (int, error) {
	return s.cachedCount(ctx, `entities e WHERE `+where, args)
}

// Facets counts facet values over the entities matching f.
func (s *Store) Facets(ctx context.Context, facets []string, f catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	fq := facetsQuery{f: f}
	fq.where, fq.args = whereFilter(f)
	// A filter driven from a selective condition is better answered from the
	// matching entities' own search rows than by visiting every row of the
	// facet's key.
	var err error
	fq.matchWhere, fq.matchArgs, fq.small, err = s.plan(ctx, f)
	if err != nil {
		return nil, err
	}
	qs := make([]facetQuery, len(facets))
	var lists []string
	for i, facet := range facets {
		key := strings.ToLower(facet)
		qs[i] = facetQuery{facet: facet, key: key}
		if _, isColumn := catalogsql.ColumnFor[key]; !isColumn && !strings.HasPrefix(key, "relations.") {
			qs[i].lists = dialect.ItemLists(key)
		}
		for _, l := range qs[i].lists {
			if !slices.Contains(lists, l) {
				lists = append(lists, l)
			}
		}
	}
	// The lists are read after the generation, so an answer stored under it
	// counts the item rows of every list stored by then.
	gen := s.cache.generation()
	stored, err := s.storedLists(ctx, lists)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]catalogstore.FacetCount, len(facets))
	few := -1 // the matches counted up to the cache's limit, once asked
	for _, q := range qs {
		counts, err := s.cachedFacet(ctx, gen, stored, fq, q, &few)
		if err != nil {
			return nil, err
		}
		out[q.facet] = counts
	}
	return out, nil
}

// facetsQuery is the filter of a Facets call, rendered once for its facets.
type facetsQuery struct {
	f          catalogstore.Filter
	where      string // f over entities e (whereFilter)
	args       []any
	matchWhere string // f's most selective condition (plan), when small
	matchArgs  []any
	small      bool
}

// facetQuery is one facet of a Facets call.
type facetQuery struct {
	facet, key string
	// lists are the lists the key can be an item of
	// (catalogsql.Dialect.ItemLists): its statement counts the item rows of
	// those stored in search_keys.
	lists []string
}

// facetStmtOf renders the one statement of q's counts over fq's matches: with
// its item rows' part (catalogsql.FacetStatement) when one of q's lists is
// stored.
func facetStmtOf(fq facetsQuery, q facetQuery, stored map[string]bool) facetStmt {
	key, where, args := q.key, fq.where, fq.args
	if col, ok := map[string]string{"metadata.namespace": "e.namespace"}[key]; ok {
		return facetStmt{stmt: `SELECT ` + col + `, count(*) FROM entities e WHERE ` + where + ` GROUP BY ` + col + ` ORDER BY ` + col, args: args}
	}
	if col, spelling, ok := dialect.ColumnFacet(key); ok {
		if fq.small {
			where, args = fq.matchWhere, fq.matchArgs
		}
		return facetStmt{stmt: catalogsql.ColumnFacetStatement(col, spelling, `entities e WHERE `+where), args: args}
	}
	if rel, ok := strings.CutPrefix(key, "relations."); ok {
		// Targets group by key; each shows its smallest spelling (byte order), so
		// every adapter shows the same one.
		// An entity's relations of a type are those it declares and the
		// reverses, of that type, of those declared toward it.
		return facetStmt{stmt: catalogsql.RelationFacet("?", where), args: append(append(append([]any{rel}, args...), rel), args...)}
	}
	// Values group case-insensitively; each is shown as one of its spellings.
	inner := `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID("?") + ` AND value <> '' GROUP BY value`
	a := []any{key}
	switch {
	case fq.small:
		// CROSS JOIN keeps the matches as the outer loop.
		inner = `SELECT s.value AS value, count(*) AS n FROM (SELECT e.eid FROM entities e WHERE ` + fq.matchWhere + `) m
			CROSS JOIN search s ON s.eid = m.eid AND s.kid = ` + catalogsql.KeyID("?") + ` WHERE s.value <> '' GROUP BY s.value`
		a = append(append([]any{}, fq.matchArgs...), key)
	case len(fq.f) > 0:
		inner = `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID("?") + ` AND value <> ''
			AND eid IN (SELECT e.eid FROM entities e WHERE ` + where + `) GROUP BY value`
		a = append(a, args...)
	}
	spelling := `(SELECT COALESCE(original, value) FROM search s2 WHERE s2.kid = ` + catalogsql.KeyID("?") + ` AND s2.value = f.value LIMIT 1)`
	a = append([]any{key}, a...)
	items := ""
	if slices.ContainsFunc(q.lists, func(l string) bool { return stored[l] }) {
		var itemArgs []any
		items, itemArgs = render(func(a *catalogsql.Args) string {
			var where func() string
			if len(fq.f) > 0 {
				where = func() string { return catalogsql.Filter(fq.f, catalogsql.Set, a) }
			}
			return catalogsql.ItemFacet(key, a, where)
		})
		a = append(a, itemArgs...)
	}
	return facetStmt{stmt: catalogsql.FacetStatement(spelling, inner, items), args: a}
}

// storedLists returns which of lists are stored search keys, in one
// look-up: the lists whose item rows a facet counts (facetStmtOf).
func (s *Store) storedLists(ctx context.Context, lists []string) (map[string]bool, error) {
	if len(lists) == 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT key FROM search_keys WHERE key IN (`+placeholders(len(lists))+`)`, lowerAll(lists)...)
	if err != nil {
		return nil, fmt.Errorf("catalog store: facets: lists: %w", err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("catalog store: facets: lists: %w", err)
		}
		stored[k] = true
	}
	return stored, rows.Err()
}

// Locations lists registered locations in registration order.
func (s *Store) Locations(ctx context.Context) ([]catalogstore.Location, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, type, target, entity_key FROM locations ORDER BY created_pos`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []catalogstore.Location{}
	for rows.Next() {
		var l catalogstore.Location
		if err := rows.Scan(&l.ID, &l.Type, &l.Target, &l.EntityRef); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Location returns the location with the id.
func (s *Store) Location(ctx context.Context, id string) (catalogstore.Location, error) {
	return s.oneLocation(ctx, `SELECT id, type, target, entity_key FROM locations WHERE id = ?`, id)
}

// LocationByTarget returns the location registered for type and target.
func (s *Store) LocationByTarget(ctx context.Context, locType, target string) (catalogstore.Location, error) {
	return s.oneLocation(ctx, `SELECT id, type, target, entity_key FROM locations WHERE type = ? AND target = ?`, locType, target)
}

// oneLocation reads one location on the decision pool: the catalog service
// looks a location up under its lock, and the table is small.
func (s *Store) oneLocation(ctx context.Context, q string, args ...any) (catalogstore.Location, error) {
	var l catalogstore.Location
	err := s.decide.QueryRowContext(ctx, q, args...).Scan(&l.ID, &l.Type, &l.Target, &l.EntityRef)
	if errors.Is(err, sql.ErrNoRows) {
		return catalogstore.Location{}, catalogstore.ErrNotFound
	}
	return l, err
}

// LocationErrors returns the processing errors recorded for the location.
func (s *Store) LocationErrors(ctx context.Context, id string) ([]event.ProcessingError, error) {
	return locationErrors(ctx, s.read, id)
}

// locationErrors reads a location's processing errors on db.
func locationErrors(ctx context.Context, db *sql.DB, id string) ([]event.ProcessingError, error) {
	rows, err := db.QueryContext(ctx, `SELECT body FROM location_errors WHERE location_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.ProcessingError
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var pe event.ProcessingError
		if err := json.Unmarshal(raw, &pe); err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, rows.Err()
}

// plan chooses how a filter is evaluated. A filter of one conjunction whose
// most selective search condition matches at most smallResult entities is
// driven from that condition's matches (rowid lookups), with the other
// conditions checked per row; anything else uses whereFilter or wherePerRow.
func (s *Store) plan(ctx context.Context, f catalogstore.Filter) (where string, args []any, driven bool, err error) {
	if len(f) != 1 {
		return "", nil, false, nil
	}
	best, bestN := -1, 0
	for i, c := range f[0] {
		key := strings.ToLower(c.Key)
		if _, isColumn := catalogsql.ColumnFor[key]; isColumn || strings.HasPrefix(key, "relations.") || len(c.Values) == 0 ||
			dialect.MayBeItemKey(c, key) { // its matches are not all rows of its key
			continue
		}
		stmt := `search WHERE kid = ` + catalogsql.KeyID("?") + ` AND value IN (` + placeholders(len(c.Values)) + `)`
		a := append([]any{key}, lowerAll(c.Values)...)
		n, err := s.cachedCount(ctx, stmt, a)
		if err != nil {
			return "", nil, false, err
		}
		if best < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	if best < 0 || bestN > smallResult {
		return "", nil, false, nil
	}
	drv := f[0][best]
	where = `e.eid IN (SELECT eid FROM search WHERE kid = ` + catalogsql.KeyID("?") + ` AND value IN (` + placeholders(len(drv.Values)) + `))`
	args = append([]any{strings.ToLower(drv.Key)}, lowerAll(drv.Values)...)
	for i, c := range f[0] {
		if i == best {
			continue
		}
		w, a := render(func(a *catalogsql.Args) string { return catalogsql.Condition(c, catalogsql.PerRowNoColumnIndex, a) })
		where += " AND " + w
		args = append(args, a...)
	}
	return "(" + where + ")", args, true, nil
}
