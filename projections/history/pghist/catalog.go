package pghist

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
	"backlot.dev/backlot/projections/history"
)

// dialect is PostgreSQL's spelling of the conditions the catalog adapters
// share. The history names a search key by its text, so a key's id is the
// key itself, always known. An entity's kind is the start of its key, so a
// kind condition is a range of keys (catalogsql.Dialect.KindInKey): a page
// of a kind in key order then reads that kind's versions only, where a test
// of each version's kind read every key before the kind's.
var dialect = catalogsql.Dialect{Postgres: true, KnownKey: func(key string) (any, bool) { return key, true }, KindInKey: true}

var _ history.CatalogReader = (*Store)(nil)

// CatalogAt returns the catalog as it was at the instant, answered from the
// versions valid then and their catalog rows (history_search,
// history_relations), of every partition: nothing is built, so the first
// read of an instant costs what any read costs. While the rows are not kept
// it returns history.ErrNoCatalogRows: the first call starts building them in
// the background (KeepCatalogRows), and the calls after it is done are
// answered.
func (s *Store) CatalogAt(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
	kept, err := s.keeps(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("history store (postgres): %w", err)
	}
	if !kept {
		s.buildInBackground()
		return nil, history.ErrNoCatalogRows
	}
	var valid func(a string) string
	if p, ok := at.Positions(); ok {
		// A partition the instant does not name counts as position 0.
		parts := slices.Sorted(func(yield func(int32) bool) {
			for part := range p {
				if !yield(part) {
					return
				}
			}
		})
		bound := func(col string) string {
			if len(parts) == 0 {
				return "0"
			}
			var b strings.Builder
			b.WriteString("(CASE " + col)
			for _, part := range parts {
				fmt.Fprintf(&b, " WHEN %d THEN %d", part, p[part])
			}
			b.WriteString(" ELSE 0 END)")
			return b.String()
		}
		valid = func(a string) string {
			return a + `.from_position <= ` + bound(a+`.from_partition`) + ` AND (` + a + `.to_position IS NULL OR ` + a + `.to_position > ` + bound(a+`.to_partition`) + `)`
		}
	} else {
		t, _ := at.Time()
		n := strconv.FormatInt(t.UnixNano(), 10)
		valid = func(a string) string {
			return a + `.from_time <= ` + n + ` AND (` + a + `.to_time IS NULL OR ` + a + `.to_time > ` + n + `)`
		}
	}
	// The catalog's tables as views of the instant, under the names the
	// shared conditions (catalogsql) read, as in the SQLite history: entities
	// are the versions valid then (eid is the entity's key), search rows and
	// relations the spans valid then; a span is valid only while a version of
	// its entity is. The instant is a literal, so the statements' own
	// arguments keep their numbers.
	with := `WITH entities AS NOT MATERIALIZED (SELECT v.key AS eid, v.key AS key, v.ref AS ref, v.uid AS uid,
			split_part(v.key, ':', 1) AS kind, split_part(split_part(v.key, ':', 2), '/', 1) AS namespace,
			substr(v.key, strpos(v.key, '/') + 1) AS name,
			v.location_id AS location_id, v.hash AS hash, v.body AS body
			FROM history_versions v WHERE NOT v.removed AND ` + valid("v") + `),
		search AS NOT MATERIALIZED (SELECT s.ent AS eid, s.key AS key, s.key AS kid, s.value AS value, s.original AS original
			FROM history_search s WHERE ` + valid("s") + `),
		search_keys AS NOT MATERIALIZED (SELECT DISTINCT k.key AS id, k.key AS key FROM history_search k),
		relations AS NOT MATERIALIZED (SELECT r.ent AS origin, r.type AS type, r.ltype AS ltype, r.target AS target, r.target_ref AS target_ref,
			r.reverse AS reverse, r.lreverse AS lreverse
			FROM history_relations r WHERE ` + valid("r") + `) `
	return &catalogAt{NoLocations: history.NoLocations{Store: "history store (postgres)"}, s: s, with: with}, nil
}

// catalogAt is the catalog at one instant, read from the history.
type catalogAt struct {
	history.NoLocations
	s    *Store
	with string
}

func (c *catalogAt) query(ctx context.Context, stmt string, args ...any) (pgx.Rows, error) {
	return c.s.pool.Query(ctx, c.with+stmt, args...)
}

// checkFilter refuses the internal creation order as a filter: the catalog
// of an instant has no creation positions of its own.
func checkFilter(f catalogstore.Filter) error {
	for _, conj := range f {
		for _, cond := range conj {
			if strings.EqualFold(cond.Key, catalogstore.CreationOrder) {
				return fmt.Errorf("history store (postgres): catalog at an instant: the filter %s is not kept", cond.Key)
			}
		}
	}
	return nil
}

// Query returns a page of the entities valid at the instant, as the catalog
// read model's Query does; the creation order is the key order.
func (c *catalogAt) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	if err := checkFilter(q.Filter); err != nil {
		return catalogstore.Page{}, err
	}
	where := queryWhere(q)
	var page catalogstore.Page
	if q.CountTotal {
		a := catalogsql.NewArgs(dialect)
		if err := c.s.pool.QueryRow(ctx, c.with+`SELECT count(*) FROM entities e WHERE `+where(a), a.Values()...).Scan(&page.TotalItems); err != nil {
			return catalogstore.Page{}, fmt.Errorf("history store (postgres): catalog at an instant: count: %w", err)
		}
	}
	order := q.Order
	if len(order) == 0 {
		order = []catalogstore.Order{{Field: catalogstore.CreationOrder}}
	}
	inner, args := pageStatement(q, order, where)
	rows, err := c.query(ctx, inner, args...)
	if err != nil {
		return catalogstore.Page{}, fmt.Errorf("history store (postgres): catalog at an instant: query: %w", err)
	}
	var items []catalogstore.PageRow
	for rows.Next() {
		var it catalogstore.PageRow
		vals := make([]*string, len(order))
		dest := []any{&it.View.Key}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return catalogstore.Page{}, err
		}
		it.Keyset.Key = it.View.Key
		for _, v := range vals {
			s := ""
			if v != nil {
				s = *v
			}
			it.Keyset.Values = append(it.Keyset.Values, s)
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return catalogstore.Page{}, fmt.Errorf("history store (postgres): catalog at an instant: query: %w", err)
	}
	keys := make([]string, len(items))
	for i := range items {
		keys[i] = items[i].View.Key
	}
	found := map[string]*catalogstore.EntityView{}
	if err := c.views(ctx, found, keys); err != nil {
		return catalogstore.Page{}, err
	}
	for i := range items {
		v := found[items[i].View.Key]
		if v == nil {
			return catalogstore.Page{}, fmt.Errorf("history store (postgres): catalog at an instant: entity %s vanished", items[i].View.Key)
		}
		items[i].View = *v
	}
	return catalogstore.FinishPage(ctx, page, q, items, c.decorate)
}

// maxKinds is the most kinds a filter may name for its search lookups to
// keep to the keys of those kinds.
const maxKinds = 16

// queryWhere renders the conditions of q over entities e. When q's filter
// names its kinds, its search lookups keep to the keys from the first kind's
// to the last's (an entity's key starts with its kind): merged in key order
// with a kind's versions, a value's search rows were read from the first
// key on, every other kind's before the kind's.
func queryWhere(q catalogstore.PageQuery) func(a *catalogsql.Args) string {
	return func(a *catalogsql.Args) string {
		if parts, ok := catalogsql.SplitByKind(q.Filter, maxKinds); ok {
			a.FromEid(parts[0].Kind+":", parts[len(parts)-1].Kind+";")
			defer a.FromEid(nil, nil)
		}
		w := catalogsql.Filter(q.Filter, catalogsql.PerRow, a) + " AND " + catalogsql.FullText(q.FullText, a)
		if q.LocationID != "" {
			w += " AND e.location_id = " + a.Add(q.LocationID)
		}
		return w
	}
}

// pageStatement renders the statement of q's page in order, its rows' keys
// and sort values, over the views of the instant; where renders q's
// conditions.
func pageStatement(q catalogstore.PageQuery, order []catalogstore.Order, where func(a *catalogsql.Args) string) (string, []any) {
	a := catalogsql.NewArgs(dialect)
	sortCols := make([]string, len(order))
	for i, o := range order {
		expr := "e.key"
		if !strings.EqualFold(o.Field, catalogstore.CreationOrder) {
			expr, _ = catalogsql.SortExpr(o.Field, o.Desc, a)
		}
		sortCols[i] = fmt.Sprintf("%s AS s%d", expr, i)
	}
	inner := `SELECT * FROM (SELECT e.key, ` + strings.Join(sortCols, ", ") + ` FROM entities e WHERE ` + where(a) + `) e`
	backward := q.Before != nil
	created := make([]bool, len(order))
	switch {
	case q.After != nil:
		inner += ` WHERE ` + catalogsql.KeysetCond(order, created, q.After, false, a)
	case q.Before != nil:
		inner += ` WHERE ` + catalogsql.KeysetCond(order, created, q.Before, true, a)
	}
	parts := make([]string, 0, len(order)+1)
	for i, o := range order {
		parts = append(parts, fmt.Sprintf(`e.s%d COLLATE "C" %s`, i, catalogsql.Dir(o.Desc != backward)))
	}
	parts = append(parts, "e.key "+catalogsql.Dir(backward))
	inner += ` ORDER BY ` + strings.Join(parts, ", ")
	if q.Limit > 0 {
		inner += fmt.Sprintf(" LIMIT %d", q.Limit+1)
		if q.Offset > 0 && q.After == nil && q.Before == nil {
			inner += fmt.Sprintf(" OFFSET %d", q.Offset)
		}
	} else if q.Offset > 0 {
		inner += fmt.Sprintf(" OFFSET %d", q.Offset)
	}
	return inner, a.Values()
}

// views reads the entities with the keys valid at the instant into found.
func (c *catalogAt) views(ctx context.Context, found map[string]*catalogstore.EntityView, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return c.viewsWhere(ctx, found, `key = ANY($1)`, keys)
}

func (c *catalogAt) viewsWhere(ctx context.Context, found map[string]*catalogstore.EntityView, where string, arg any) error {
	rows, err := c.query(ctx, `SELECT key, ref, uid, location_id, body, hash FROM entities WHERE `+where, arg)
	if err != nil {
		return fmt.Errorf("history store (postgres): catalog at an instant: entities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := &catalogstore.EntityView{}
		var body []byte
		var hash string
		if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &body, &hash); err != nil {
			return err
		}
		if v.Body, err = history.CatalogBody(v.Key, v.UID, hash, body); err != nil {
			return err
		}
		found[v.Key] = v
	}
	return rows.Err()
}

// decorate loads the relations of the views: those the versions valid at the
// instant declare, and the reverses of those declared toward them.
func (c *catalogAt) decorate(ctx context.Context, views []*catalogstore.EntityView) error {
	if len(views) == 0 {
		return nil
	}
	byKey, keys := catalogstore.IndexViews(views)
	rows, err := c.query(ctx, `SELECT DISTINCT source, type, target, target_ref FROM (
			SELECT r.origin AS source, r.type AS type, r.target AS target, r.target_ref AS target_ref
				FROM relations r WHERE r.origin = ANY($1)
			UNION ALL
			SELECT r.target, r.reverse, o.key, o.ref FROM relations r JOIN entities o ON o.eid = r.origin
				WHERE r.target = ANY($1)
		) x ORDER BY source, type, target, target_ref`, keys)
	if err != nil {
		return fmt.Errorf("history store (postgres): catalog at an instant: relations: %w", err)
	}
	err = catalogstore.ScanRelations(rows, byKey, true)
	rows.Close()
	if err != nil {
		return err
	}
	for _, v := range byKey {
		catalogstore.NormalizeRelations(v)
	}
	return nil
}

// ByKeys returns the entities with the keys valid at the instant, in order, nil where missing.
func (c *catalogAt) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	lower := make([]string, len(keys))
	for i, k := range keys {
		lower[i] = strings.ToLower(k)
	}
	found := map[string]*catalogstore.EntityView{}
	if err := c.views(ctx, found, lower); err != nil {
		return nil, err
	}
	views := make([]*catalogstore.EntityView, 0, len(found))
	for _, v := range found {
		views = append(views, v)
	}
	if err := c.decorate(ctx, views); err != nil {
		return nil, err
	}
	out := make([]*catalogstore.EntityView, len(keys))
	for i, k := range lower {
		out[i] = found[k]
	}
	return out, nil
}

// ByUID returns the entity with the uid valid at the instant, or catalogstore.ErrNotFound.
func (c *catalogAt) ByUID(ctx context.Context, uid string) (*catalogstore.EntityView, error) {
	found := map[string]*catalogstore.EntityView{}
	if err := c.viewsWhere(ctx, found, `uid = $1`, uid); err != nil {
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

// Facets counts facet values over the entities valid at the instant that
// match f, as the catalog read model does: values group case-insensitively
// and each shows the spelling of the first entity in key order (the
// creation order of a catalog built for the instant) that has it.
func (c *catalogAt) Facets(ctx context.Context, facets []string, f catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	out := make(map[string][]catalogstore.FacetCount, len(facets))
	for _, facet := range facets {
		key := strings.ToLower(facet)
		a := catalogsql.NewArgs(dialect)
		var stmt string
		switch {
		case key == "metadata.namespace":
			stmt = `SELECT e.namespace, count(*) FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + ` GROUP BY e.namespace ORDER BY e.namespace`
		case strings.HasPrefix(key, "relations."):
			rel := strings.TrimPrefix(key, "relations.")
			ph, where := a.Add(rel), catalogsql.Filter(f, catalogsql.PerRow, a)
			stmt = catalogsql.RelationFacet(ph, where)
		default:
			// A span valid at the instant is one entity valid then.
			k := a.Add(key)
			inner := `SELECT value, count(*) AS n FROM search WHERE kid = ` + k + ` AND value <> '' GROUP BY value`
			if len(f) > 0 {
				inner = `SELECT value, count(*) AS n FROM search WHERE kid = ` + k + ` AND value <> ''
					AND eid IN (SELECT e.eid FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + `) GROUP BY value`
			}
			stmt = `SELECT (SELECT COALESCE(s2.original, s2.value) FROM search s2 WHERE s2.kid = ` + k + ` AND s2.value = f.value ORDER BY s2.eid LIMIT 1), f.n
				FROM (` + inner + `) f ORDER BY f.value`
		}
		rows, err := c.query(ctx, stmt, a.Values()...)
		if err != nil {
			return nil, fmt.Errorf("history store (postgres): catalog at an instant: facet %s: %w", facet, err)
		}
		counts := []catalogstore.FacetCount{}
		var fc catalogstore.FacetCount
		if _, err := pgx.ForEachRow(rows, []any{&fc.Value, &fc.Count}, func() error {
			counts = append(counts, fc)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("history store (postgres): catalog at an instant: facet %s: %w", facet, err)
		}
		out[facet] = counts
	}
	return out, nil
}

// Positions returns the positions the history had applied.
func (c *catalogAt) Positions(ctx context.Context) (event.Positions, error) {
	return c.s.Positions(ctx)
}
