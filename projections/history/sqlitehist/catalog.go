package sqlitehist

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
	"backlot.dev/backlot/projections/history"
)

// smallResult is the count up to which a page is fetched by the matches of
// its most selective condition rather than by walking the key order.
const smallResult = 5000

// dialect is SQLite's spelling of the conditions the catalog adapters share.
var dialect = catalogsql.Dialect{}

var _ history.CatalogReader = (*Store)(nil)

// CatalogAt returns the catalog as it was at the instant, answered from the
// versions valid then and their catalog rows (history_search,
// history_relations): nothing is built, so the first read of an instant costs
// what any read costs. It returns history.ErrNoCatalogRows when the instant
// names a partition other than 0 at a position above 0, and while the rows
// are not kept yet: the first call starts building them in the background
// (KeepCatalogRows), and the calls after it is done are answered.
func (s *Store) CatalogAt(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
	if !s.kept.Load() {
		s.buildInBackground()
		return nil, history.ErrNoCatalogRows
	}
	var valid func(alias string) string
	if p, ok := at.Positions(); ok {
		for part, pos := range p {
			if part != 0 && pos > 0 {
				return nil, history.ErrNoCatalogRows
			}
		}
		n := strconv.FormatInt(p[0], 10)
		valid = func(a string) string {
			return a + `.from_position <= ` + n + ` AND (` + a + `.to_position IS NULL OR ` + a + `.to_position > ` + n + `)`
		}
	} else {
		t, _ := at.Time()
		n := strconv.FormatInt(t.UnixNano(), 10)
		valid = func(a string) string {
			return a + `.from_time <= ` + n + ` AND (` + a + `.to_time IS NULL OR ` + a + `.to_time > ` + n + `)`
		}
	}
	versions := `v.removed = 0 AND ` + valid("v")
	// The catalog's tables as views of the instant, under the names the shared
	// conditions (catalogsql) read: entities are the versions valid then (eid
	// is the entity's key, pos the version's position), search rows and
	// relations are the spans valid then. A row is valid only while a
	// version of its entity is (a removal closes them all). The instant is a
	// literal, so the statements' own "?" arguments keep their order.
	// The catalog names a search key by an id (search_keys); the history
	// names it by its text, so a key's id here is the key itself. Both keep
	// each relation once, by the entity that declares it (origin, the
	// entity's key here), and derive its reverse.
	with := func(index string) string {
		return `WITH entities AS NOT MATERIALIZED (SELECT v.key AS eid, v.from_position AS pos, v.key AS key, v.ref AS ref, v.uid AS uid,
			substr(v.key, 1, instr(v.key, ':') - 1) AS kind,
			substr(v.key, instr(v.key, ':') + 1, instr(v.key, '/') - instr(v.key, ':') - 1) AS namespace,
			substr(v.key, instr(v.key, '/') + 1) AS name,
			v.location_id AS location_id, v.hash AS hash, v.body AS body
			FROM history_versions v ` + index + ` WHERE ` + versions + `),
		search AS NOT MATERIALIZED (SELECT s.ent AS eid, s.key AS key, s.key AS kid, s.value AS value, s.original AS original
			FROM history_search s WHERE ` + valid("s") + `),
		search_keys AS NOT MATERIALIZED (SELECT k.key AS id, k.key AS key FROM history_search k),
		relations AS NOT MATERIALIZED (SELECT r.ent AS origin, r.type AS type, r.ltype AS ltype, r.target AS target, r.target_ref AS target_ref,
			r.reverse AS reverse, r.lreverse AS lreverse
			FROM history_relations r WHERE ` + valid("r") + `) `
	}
	// A count over many versions tests each on the span index, which holds
	// what the test needs, rather than on its row.
	return &catalogAt{NoLocations: history.NoLocations{Store: "history store"}, s: s, with: with(""), lookup: with("INDEXED BY history_versions_span"), validAt: valid}, nil
}

// trace, when set (by tests), sees each statement before it runs.
var trace func(stmt string, args []any)

// query runs a statement of the catalog at the instant.
func (c *catalogAt) query(ctx context.Context, stmt string, args ...any) (*sql.Rows, error) {
	return c.queryWith(ctx, c.with, stmt, args...)
}

// queryWith runs a statement with the views of with.
func (c *catalogAt) queryWith(ctx context.Context, with, stmt string, args ...any) (*sql.Rows, error) {
	stmt = with + stmt
	if trace != nil {
		trace(stmt, args)
	}
	return c.s.read.QueryContext(ctx, stmt, args...)
}

// queryRow runs a statement of one row of the catalog at the instant.
func (c *catalogAt) queryRow(ctx context.Context, with, stmt string, args ...any) *sql.Row {
	stmt = with + stmt
	if trace != nil {
		trace(stmt, args)
	}
	return c.s.read.QueryRowContext(ctx, stmt, args...)
}

// catalogAt is the catalog at one instant, read from the history.
type catalogAt struct {
	history.NoLocations
	s *Store
	// with names the catalog's tables as views of the instant; lookup does
	// too, testing versions on their span index.
	with, lookup string
	// validAt is the condition a version or a span of catalog rows (alias)
	// valid at the instant meets.
	validAt func(alias string) string
}

// render renders a condition with its arguments, in the order of the text.
func render(fn func(a *catalogsql.Args) string) (string, []any) {
	a := catalogsql.NewArgs(dialect)
	return fn(a), a.Values()
}

// checkFilter refuses the internal creation order as a filter: the catalog
// of an instant has no creation positions of its own.
func checkFilter(f catalogstore.Filter) error {
	for _, conj := range f {
		for _, c := range conj {
			if strings.EqualFold(c.Key, catalogstore.CreationOrder) {
				return fmt.Errorf("history store: catalog at an instant: the filter %s is not kept", c.Key)
			}
		}
	}
	return nil
}

// searchConditions reports whether the filter tests search rows, not only
// the entities' own columns.
func searchConditions(f catalogstore.Filter) bool {
	for _, conj := range f {
		for _, c := range conj {
			if _, isColumn := catalogsql.ColumnFor[strings.ToLower(c.Key)]; !isColumn {
				return true
			}
		}
	}
	return false
}

// keyOrder reports whether the order is the key order (the creation order of
// the catalog of an instant), forward or backward.
func keyOrder(order []catalogstore.Order) bool {
	for _, o := range order {
		if !strings.EqualFold(o.Field, catalogstore.CreationOrder) {
			return false
		}
	}
	return true
}

// sortExpr is the expression that sorts by field: the creation order of the
// catalog of an instant is the key order (Current's order, in which a built
// catalog of the instant creates its entities).
func sortExpr(field string, desc bool) (string, []any) {
	if strings.EqualFold(field, catalogstore.CreationOrder) {
		return "e.key", nil
	}
	return render(func(a *catalogsql.Args) string { expr, _ := catalogsql.SortExpr(field, desc, a); return expr })
}

// Query returns a page of the entities valid at the instant, as the catalog
// read model's Query does.
func (c *catalogAt) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	if err := checkFilter(q.Filter); err != nil {
		return catalogstore.Page{}, err
	}
	extra := func(where string, args []any) (string, []any) {
		ftWhere, ftArgs := render(func(a *catalogsql.Args) string { return catalogsql.FullText(q.FullText, a) })
		where = where + " AND " + ftWhere
		args = append(args, ftArgs...)
		if q.LocationID != "" {
			where += " AND e.location_id = ?"
			args = append(args, q.LocationID)
		}
		return where, args
	}
	pw, pa, driven, err := c.plan(ctx, q.Filter)
	if err != nil {
		return catalogstore.Page{}, err
	}
	var page catalogstore.Page
	if q.CountTotal {
		cw, ca := extra(render(func(a *catalogsql.Args) string { return catalogsql.Filter(q.Filter, catalogsql.Set, a) }))
		if driven {
			cw, ca = extra(pw, pa)
		}
		// A count over the entities' own columns tests every version valid
		// then on the span index; one with search conditions (driven or
		// not) looks the versions of their matches up by key.
		with := c.lookup
		if driven || searchConditions(q.Filter) {
			with = c.with
		}
		if err := c.queryRow(ctx, with, `SELECT count(*) FROM entities e WHERE `+cw, ca...).Scan(&page.TotalItems); err != nil {
			return catalogstore.Page{}, fmt.Errorf("history store: catalog at an instant: count: %w", err)
		}
	}
	var where string
	var args []any
	switch {
	case driven:
		where, args = extra(pw, pa)
	case q.Limit > 0 && keyOrder(q.Order):
		// A walk in key order stops at the end of the page: each version is
		// tested as it comes. Another order sorts every match first.
		where, args = extra(render(func(a *catalogsql.Args) string { return catalogsql.Filter(q.Filter, catalogsql.PerRow, a) }))
	default:
		where, args = extra(render(func(a *catalogsql.Args) string { return catalogsql.Filter(q.Filter, catalogsql.Set, a) }))
	}
	order := q.Order
	if len(order) == 0 {
		order = []catalogstore.Order{{Field: catalogstore.CreationOrder}}
	}
	var sortCols []string
	var sortArgs []any
	for i, o := range order {
		expr, a := sortExpr(o.Field, o.Desc)
		sortCols = append(sortCols, fmt.Sprintf("%s AS s%d", expr, i))
		sortArgs = append(sortArgs, a...)
	}
	// The page is chosen on keys and sort values alone; the bodies of its
	// rows are read after, so a sort reads no body it drops.
	selectCols := "e.pos, e.key, " + strings.Join(sortCols, ", ")
	backward := q.Before != nil
	var keyCond string
	var keyArgs []any
	if ks := q.After; ks != nil {
		keyCond, keyArgs = keysetCond(order, ks, false)
	} else if ks := q.Before; ks != nil {
		keyCond, keyArgs = keysetCond(order, ks, true)
	}
	var orderParts []string
	for i, o := range order {
		orderParts = append(orderParts, fmt.Sprintf("s%d %s", i, catalogsql.Dir(o.Desc != backward)))
	}
	orderParts = append(orderParts, "e.key "+catalogsql.Dir(backward))
	all := append(append([]any{}, sortArgs...), args...)
	stmt := `SELECT * FROM (SELECT ` + selectCols + ` FROM entities e WHERE ` + where + `) e`
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
	rows, err := c.query(ctx, stmt, all...)
	if err != nil {
		return catalogstore.Page{}, fmt.Errorf("history store: catalog at an instant: query: %w", err)
	}
	defer rows.Close()
	var items []catalogstore.PageRow
	var eids []int64
	for rows.Next() {
		var it catalogstore.PageRow
		var eid int64
		dest := []any{&eid, &it.View.Key}
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
	rows.Close()
	if err := c.fill(ctx, items, eids); err != nil {
		return catalogstore.Page{}, err
	}
	return catalogstore.FinishPage(ctx, page, q, items, c.decorate)
}

// fill reads the entities of a page's rows by their versions' positions.
func (c *catalogAt) fill(ctx context.Context, items []catalogstore.PageRow, eids []int64) error {
	at := make(map[int64]int, len(eids))
	const chunk = 500
	for start := 0; start < len(eids); start += chunk {
		part := eids[start:min(start+chunk, len(eids))]
		args := make([]any, len(part))
		for i, e := range part {
			args[i] = e
			at[e] = start + i
		}
		rows, err := c.s.read.QueryContext(ctx, `SELECT from_position, ref, uid, location_id, body, hash FROM history_versions
			WHERE from_position IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return fmt.Errorf("history store: catalog at an instant: entities: %w", err)
		}
		for rows.Next() {
			var eid int64
			var body []byte
			var ref, uid, loc, hash string
			if err := rows.Scan(&eid, &ref, &uid, &loc, &body, &hash); err != nil {
				rows.Close()
				return err
			}
			v := &items[at[eid]].View
			v.Ref, v.UID, v.LocationID = ref, uid, loc
			if v.Body, err = history.CatalogBody(v.Key, uid, hash, body); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// keysetCond renders "after ks" (or "before ks") for the ordered columns s0..sn, key.
func keysetCond(order []catalogstore.Order, ks *catalogstore.Keyset, before bool) (string, []any) {
	return render(func(a *catalogsql.Args) string {
		return catalogsql.KeysetCond(order, make([]bool, len(order)), ks, before, a)
	})
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

// decorate loads the relations of the views: those the versions valid at the
// instant declare, and the reverses of those declared toward them.
func (c *catalogAt) decorate(ctx context.Context, views []*catalogstore.EntityView) error {
	if len(views) == 0 {
		return nil
	}
	byKey, keyList := catalogstore.IndexViews(views)
	const chunk = 500
	for start := 0; start < len(keyList); start += chunk {
		part := keyList[start:min(start+chunk, len(keyList))]
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		// An entity's relations are those it declares and the reverses of
		// those declared toward it, as in the catalog read model.
		rows, err := c.query(ctx, `SELECT DISTINCT source, type, target_ref FROM (
			SELECT r.origin AS source, r.type AS type, r.target AS target, r.target_ref AS target_ref
				FROM relations r WHERE r.origin IN (`+placeholders(len(part))+`)
			UNION ALL
			SELECT r.target, r.reverse, o.key, o.ref FROM relations r JOIN entities o ON o.eid = r.origin
				WHERE r.target IN (`+placeholders(len(part))+`)
		) ORDER BY source, type, target`, append(append([]any{}, args...), args...)...)
		if err != nil {
			return fmt.Errorf("history store: catalog at an instant: relations: %w", err)
		}
		err = catalogstore.ScanRelations(rows, byKey, false)
		rows.Close()
		if err != nil {
			return err
		}
	}
	for _, v := range byKey {
		catalogstore.NormalizeRelations(v)
	}
	return nil
}

// ByKeys returns the entities with the keys valid at the instant, in order, nil where missing.
func (c *catalogAt) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	found := map[string]*catalogstore.EntityView{}
	const chunk = 500
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		args := make([]any, 0, end-start)
		for _, k := range keys[start:end] {
			args = append(args, strings.ToLower(k))
		}
		if err := c.views(ctx, found, `key IN (`+placeholders(len(args))+`)`, args...); err != nil {
			return nil, err
		}
	}
	views := make([]*catalogstore.EntityView, 0, len(found))
	for _, v := range found {
		views = append(views, v)
	}
	if err := c.decorate(ctx, views); err != nil {
		return nil, err
	}
	out := make([]*catalogstore.EntityView, len(keys))
	for i, k := range keys {
		out[i] = found[strings.ToLower(k)]
	}
	return out, nil
}

// views reads the entities matching where into found, by key.
func (c *catalogAt) views(ctx context.Context, found map[string]*catalogstore.EntityView, where string, args ...any) error {
	rows, err := c.query(ctx, `SELECT key, ref, uid, location_id, body, hash FROM entities WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("history store: catalog at an instant: entities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := &catalogstore.EntityView{}
		var hash string
		if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body, &hash); err != nil {
			return err
		}
		if v.Body, err = history.CatalogBody(v.Key, v.UID, hash, v.Body); err != nil {
			return err
		}
		found[v.Key] = v
	}
	return rows.Err()
}

// ByUID returns the entity with the uid valid at the instant, or catalogstore.ErrNotFound.
func (c *catalogAt) ByUID(ctx context.Context, uid string) (*catalogstore.EntityView, error) {
	found := map[string]*catalogstore.EntityView{}
	if err := c.views(ctx, found, `uid = ?`, uid); err != nil {
		return nil, err
	}
	for _, v := range found {
		if err := c.decorate(ctx, []*catalogstore.EntityView{v}); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, catalogstore.ErrNotFound
}

// Facets counts facet values over the entities valid at the instant that match f.
func (c *catalogAt) Facets(ctx context.Context, facets []string, f catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	where, args := render(func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.Set, a) })
	matchWhere, matchArgs, small, err := c.plan(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]catalogstore.FacetCount, len(facets))
	for _, facet := range facets {
		key := strings.ToLower(facet)
		var stmt string
		var a []any
		if key == "metadata.namespace" {
			stmt = `SELECT e.namespace, count(*) FROM entities e WHERE ` + where + ` GROUP BY e.namespace ORDER BY e.namespace`
			a = args
		} else if rel, ok := strings.CutPrefix(key, "relations."); ok {
			// An entity's relations of a type are those it declares and the
			// reverses, of that type, of those declared toward it.
			stmt = catalogsql.RelationFacet("?", where)
			a = append(append(append([]any{rel}, args...), rel), args...)
		} else {
			// Values group case-insensitively; each is shown in the spelling
			// of the first entity in key order that has it, as a built
			// catalog of the instant shows it.
			inner := `SELECT s.value AS value, count(*) AS n FROM search s JOIN entities e ON e.eid = s.eid
				WHERE s.key = ? AND s.value <> '' GROUP BY s.value`
			a = []any{key}
			switch {
			case small:
				inner = `SELECT s.value AS value, count(*) AS n FROM (SELECT e.eid FROM entities e WHERE ` + matchWhere + `) m
					CROSS JOIN search s ON s.eid = m.eid AND s.key = ? WHERE s.value <> '' GROUP BY s.value`
				a = append(append([]any{}, matchArgs...), key)
			case len(f) > 0:
				inner = `SELECT s.value AS value, count(*) AS n FROM search s JOIN entities e ON e.eid = s.eid
					WHERE s.key = ? AND s.value <> '' AND ` + where + ` GROUP BY s.value`
				a = append(a, args...)
			}
			if len(f) == 0 {
				// Over the whole catalog the spans of the key valid at the
				// instant are counted on the key/value index alone (a span
				// valid then is one entity valid then), and the spelling of
				// each value is read from the span of its smallest key.
				stmt = `SELECT (SELECT COALESCE(s2.original, s2.value) FROM history_search s2
						WHERE s2.ent = f.ent AND s2.key = ? AND s2.value = f.value AND ` + c.validAt("s2") + `), f.n
					FROM (SELECT s.value AS value, count(*) AS n, min(s.ent) AS ent FROM history_search s INDEXED BY history_search_key_value
						WHERE s.key = ? AND ` + c.validAt("s") + ` AND s.value <> '' GROUP BY s.value) f ORDER BY f.value`
				a = []any{key, key}
			} else {
				stmt = `SELECT (SELECT COALESCE(s2.original, s2.value) FROM search s2 JOIN entities e2 ON e2.eid = s2.eid
						WHERE s2.key = ? AND s2.value = f.value ORDER BY e2.key LIMIT 1), f.n
					FROM (` + inner + `) f ORDER BY f.value`
				a = append([]any{key}, a...)
			}
		}
		rows, err := c.query(ctx, stmt, a...)
		if err != nil {
			return nil, fmt.Errorf("history store: catalog at an instant: facet %s: %w", facet, err)
		}
		counts := []catalogstore.FacetCount{}
		for rows.Next() {
			var fc catalogstore.FacetCount
			if err := rows.Scan(&fc.Value, &fc.Count); err != nil {
				rows.Close()
				return nil, err
			}
			counts = append(counts, fc)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[facet] = counts
	}
	return out, nil
}

// plan chooses how a filter is evaluated, as the catalog read model does: a
// filter of one conjunction whose most selective search condition matches at
// most smallResult rows (of any version) is driven from those matches, with
// the other conditions checked per row.
func (c *catalogAt) plan(ctx context.Context, f catalogstore.Filter) (where string, args []any, driven bool, err error) {
	if len(f) != 1 {
		return "", nil, false, nil
	}
	best, bestN := -1, 0
	for i, cond := range f[0] {
		key := strings.ToLower(cond.Key)
		if _, isColumn := catalogsql.ColumnFor[key]; isColumn || strings.HasPrefix(key, "relations.") || len(cond.Values) == 0 {
			continue
		}
		var n int
		a := append([]any{key}, lowerAll(cond.Values)...)
		if err := c.s.read.QueryRowContext(ctx, `SELECT count(*) FROM history_search WHERE key = ? AND value IN (`+placeholders(len(cond.Values))+`)`, a...).Scan(&n); err != nil {
			return "", nil, false, fmt.Errorf("history store: catalog at an instant: plan: %w", err)
		}
		if best < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	if best < 0 || bestN > smallResult {
		return "", nil, false, nil
	}
	drv := f[0][best]
	where = `e.eid IN (SELECT eid FROM search WHERE key = ? AND value IN (` + placeholders(len(drv.Values)) + `))`
	args = append([]any{strings.ToLower(drv.Key)}, lowerAll(drv.Values)...)
	for i, cond := range f[0] {
		if i == best {
			continue
		}
		w, a := render(func(a *catalogsql.Args) string { return catalogsql.Condition(cond, catalogsql.PerRowNoColumnIndex, a) })
		where += " AND " + w
		args = append(args, a...)
	}
	return "(" + where + ")", args, true, nil
}

// Positions returns the positions the history had applied.
func (c *catalogAt) Positions(ctx context.Context) (event.Positions, error) {
	return c.s.Positions(ctx)
}
