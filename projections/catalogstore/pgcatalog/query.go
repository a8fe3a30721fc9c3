package pgcatalog

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

// baseDialect is PostgreSQL's spelling of the conditions the adapters share;
// values of the creation order are position/partition pairs.
var baseDialect = catalogsql.Dialect{Postgres: true, CreatedArg: func(v string) any { return parseCreated(v) }, ItemRows: true, NoColumnRows: true}

func lowerAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v)
	}
	return out
}

// createdValue renders an eid as a keyset value: the creating position for
// partition 0 (as the SQLite store, whose eid is the position), and
// position/partition otherwise.
func createdValue(eid int64) string {
	pos, part := eid/MaxPartitions, eid%MaxPartitions
	if part == 0 {
		return strconv.FormatInt(pos, 10)
	}
	return strconv.FormatInt(pos, 10) + "/" + strconv.FormatInt(part, 10)
}

// parseCreated reads a keyset value of createdValue back. A value it cannot
// read sorts after every eid, as text sorts after integers in SQLite.
func parseCreated(s string) int64 {
	ps, parts, hasPart := strings.Cut(s, "/")
	pos, err := strconv.ParseInt(ps, 10, 64)
	if err != nil || pos < 0 || pos > math.MaxInt64/MaxPartitions-1 {
		return math.MaxInt64
	}
	var part int64
	if hasPart {
		part, err = strconv.ParseInt(parts, 10, 64)
		if err != nil || part < 0 || part >= MaxPartitions {
			return math.MaxInt64
		}
	}
	return pos*MaxPartitions + part
}

// pageWhere renders the conditions of q over entities e, its filter's in mode.
func pageWhere(q catalogstore.PageQuery, mode catalogsql.Mode, a *catalogsql.Args) string {
	w := catalogsql.Filter(q.Filter, mode, a) + " AND " + catalogsql.FullText(q.FullText, a)
	if q.LocationID != "" {
		w += " AND e.location_id = " + a.Add(q.LocationID)
	}
	return w
}

// countFrom renders what a count of q's matches reads, "entities e WHERE"
// and q's conditions (its page and order aside), with its arguments. When
// q's filter names its kinds (catalogsql.SplitByKind), it is each kind's
// matches in turn, read from the kind's first eid on (firsts, as firstEids
// reads them; nil renders the count without them, as the cache names it),
// their search rows looked up from there too (catalogsql.Args.FromEid).
// A count capped at n then reads in proportion to n from the kinds it
// reaches, however the kinds lie in the catalog's creation order. Without
// the bound, the capped count of 10,001 production components at 1,000,000
// entities merged the search rows of the production APIs, folded before
// every component, with the components' eids: 164,588 index rows. The bound
// is a value the planner sees: as a subquery, its selectivity is guessed
// (a third of the rows for each condition it bounds), and the planner chose
// hash joins of whole kinds. The kind stays an equality: a count has no
// order for the kind's range to steer (as a range, the vacuumed count of
// 100,000 entities went from 21 ms to a hash join of 190 ms).
func (s *Store) countFrom(q catalogstore.PageQuery, firsts map[string]int64) (string, []any) {
	a := catalogsql.NewArgs(s.dialect())
	parts, ok := catalogsql.SplitByKind(q.Filter, maxKindParts)
	if !ok {
		return `entities e WHERE ` + pageWhere(q, catalogsql.PerRow, a), a.Values()
	}
	rest := catalogsql.FullText(q.FullText, a)
	if q.LocationID != "" {
		rest += " AND e.location_id = " + a.Add(q.LocationID)
	}
	arms := make([]string, len(parts))
	for i, p := range parts {
		if anyOfKind(p.Filter) && q.FullText.Term == "" && q.LocationID == "" {
			// Every entity of the kind: read from an index that leads with
			// kind, as a page of one kind is (catalogsql.PerRowKindRange).
			// With an equality, before the table is vacuumed, the planner
			// reads the table from its start for the kind's rows it assumes
			// spread evenly through it.
			arms[i] = `(SELECT 1 FROM entities e WHERE ` + catalogsql.KindRange(p.Kind, a) + ` ORDER BY e.kind)`
			continue
		}
		bound := ""
		if first, ok := firsts[p.Kind]; ok {
			a.FromEid(first, nil)
			bound = ` AND e.eid >= ` + a.Add(first)
		}
		arms[i] = `e.kind = ` + a.Add(p.Kind) + bound + ` AND ` + catalogsql.Filter(p.Filter, catalogsql.PerRow, a) + ` AND ` + rest
		a.FromEid(nil, nil)
		if len(parts) > 1 {
			arms[i] = `(SELECT 1 FROM entities e WHERE ` + arms[i] + `)`
		}
	}
	if len(arms) == 1 && !strings.HasPrefix(arms[0], "(") {
		return `entities e WHERE ` + arms[0], a.Values()
	}
	// A count stops at its cap in the first kinds it reaches.
	return `(` + strings.Join(arms, ` UNION ALL `) + `) e`, a.Values()
}

// firstEids reads on conn the first eid of each kind q's filter names
// (catalogsql.SplitByKind), for countFrom: a kind without entities has
// none, and its count reads nothing. It reads nothing for a filter that
// names no kinds.
func firstEids(ctx context.Context, conn *pgx.Conn, q catalogstore.PageQuery) (map[string]int64, error) {
	parts, ok := catalogsql.SplitByKind(q.Filter, maxKindParts)
	if !ok {
		return nil, nil
	}
	kinds := make([]string, len(parts))
	for i, p := range parts {
		kinds[i] = p.Kind
	}
	firsts := make(map[string]int64, len(kinds))
	// Each the first row of the index that leads with kind, the kind as a
	// range (catalogsql.PerRowKindRange): with min(eid) of an equality, the
	// planner walks the primary key from its start.
	rows, err := conn.Query(ctx, `SELECT k, (SELECT eid FROM entities WHERE kind >= k AND kind <= k ORDER BY kind, eid LIMIT 1)
		FROM unnest($1::text[]) k`, kinds)
	if err != nil {
		return nil, fmt.Errorf("first eids of %v: %w", kinds, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var first *int64
		if err := rows.Scan(&k, &first); err != nil {
			return nil, fmt.Errorf("first eids of %v: %w", kinds, err)
		}
		if first == nil {
			firsts[k] = math.MaxInt64
		} else {
			firsts[k] = *first
		}
	}
	return firsts, rows.Err()
}

// anyOfKind says whether f, a kind's part of a filter, holds for every
// entity of the kind: one of its conjunctions is empty.
func anyOfKind(f catalogstore.Filter) bool {
	return slices.ContainsFunc(f, func(conj []catalogstore.Condition) bool { return len(conj) == 0 })
}

// pageSQL is the statement of a page and what reading its rows needs.
type pageSQL struct {
	stmt string
	args []any
	// created says which sort values are eids (catalogsql.SortExpr).
	created []bool
}

// pageSQL renders the statement of q's page: its rows with their sort values.
func (s *Store) pageSQL(q catalogstore.PageQuery) pageSQL {
	order := q.Order
	if len(order) == 0 {
		order = []catalogstore.Order{{Field: catalogstore.CreationOrder}}
	}
	a := catalogsql.NewArgs(s.dialect())
	sortCols := make([]string, len(order))
	created := make([]bool, len(order))
	for i, o := range order {
		expr, isCreated := catalogsql.SortExpr(o.Field, o.Desc, a)
		sortCols[i] = fmt.Sprintf("%s AS s%d", expr, i)
		created[i] = isCreated
	}
	backward := q.Before != nil
	orderBy := func(alias string) string {
		parts := make([]string, 0, len(order)+1)
		unique := false
		for i, o := range order {
			c := fmt.Sprintf(`%s.s%d COLLATE "C"`, alias, i)
			if created[i] {
				c = fmt.Sprintf("%s.s%d", alias, i)
				unique = true // eids are unique: nothing after them changes the order
			}
			parts = append(parts, c+" "+catalogsql.Dir(o.Desc != backward))
			if unique {
				break
			}
		}
		if !unique {
			parts = append(parts, alias+".key "+catalogsql.Dir(backward))
		}
		return strings.Join(parts, ", ")
	}
	keyset := ""
	switch {
	case q.After != nil:
		keyset = ` WHERE ` + catalogsql.KeysetCond(order, created, q.After, false, a)
	case q.Before != nil:
		keyset = ` WHERE ` + catalogsql.KeysetCond(order, created, q.Before, true, a)
	}
	// In the direction of the first sort column, so an index of kind and
	// that column serves the order alone, forward or backward.
	kindFirst := `e.kind ` + catalogsql.Dir(order[0].Desc != backward) + `, `
	// As in the SQLite store, an offset is ignored with a keyset only when the
	// page has a limit.
	offset := 0
	if q.Offset > 0 && (q.Limit <= 0 || (q.After == nil && q.Before == nil)) {
		offset = q.Offset
	}
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", q.Limit+1)
	}
	if offset > 0 {
		limit += fmt.Sprintf(" OFFSET %d", offset)
	}
	// The page is chosen on narrow rows (eid, key and the sort values), then
	// joined to the entities for their bodies: sorting and skipping never carry
	// a body along, and an index on (kind, eid) can serve the default order alone.
	var inner string
	if parts, ok := kindParts(q); ok {
		// A page of a few kinds is the merge of each kind's first rows, each
		// read in order from an index that leads with kind as a page of one
		// kind is (below): a condition on several kinds leaves the planner no
		// index that serves the page's order but the ones that walk every
		// kind, dropping the others as they go.
		rest := catalogsql.FullText(q.FullText, a)
		if q.LocationID != "" {
			rest += " AND e.location_id = " + a.Add(q.LocationID)
		}
		cols := `SELECT e.eid, e.key, e.kind, ` + strings.Join(sortCols, ", ") + ` FROM entities e WHERE `
		arms := make([]string, len(parts))
		for i, p := range parts {
			arms[i] = `(SELECT * FROM (` + cols + catalogsql.KindRange(p.Kind, a) + ` AND ` +
				catalogsql.Filter(p.Filter, catalogsql.PerRow, a) + ` AND ` + rest + `) e` + keyset +
				` ORDER BY ` + kindFirst + orderBy("e") + fmt.Sprintf(" LIMIT %d)", q.Limit+1+offset)
		}
		inner = `SELECT * FROM (` + strings.Join(arms, " UNION ALL ") + `) e ORDER BY ` + orderBy("e") + limit
	} else {
		// A page of one kind is read in order from an index that leads with
		// kind (catalogsql.PerRowKindRange), however the kinds are spread
		// over the catalog's creation order or names: its filter names the
		// kind as a range, and it is ordered by kind first, which is the
		// same order.
		oneKind := soleKind(q.Filter)
		mode, kindCol := catalogsql.PerRow, ""
		if oneKind {
			mode, kindCol = catalogsql.PerRowKindRange, "e.kind, "
		}
		inner = `SELECT * FROM (SELECT e.eid, e.key, ` + kindCol + strings.Join(sortCols, ", ") +
			` FROM entities e WHERE ` + pageWhere(q, mode, a) + `) e` + keyset + ` ORDER BY `
		if oneKind {
			inner += kindFirst
		}
		inner += orderBy("e") + limit
	}
	sCols := make([]string, len(order))
	for i := range order {
		sCols[i] = fmt.Sprintf("p.s%d", i)
	}
	stmt := `SELECT x.key, x.ref, x.uid, x.location_id, x.body, ` + strings.Join(sCols, ", ") +
		` FROM (` + inner + `) p JOIN entities x ON x.eid = p.eid ORDER BY ` + orderBy("p")
	return pageSQL{stmt: stmt, args: a.Values(), created: created}
}

// Query returns a page of entities, as the SQLite store does.
func (s *Store) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	var page catalogstore.Page
	ps := s.pageSQL(q)
	created := ps.created
	var items []catalogstore.PageRow
	var probe *countProbe
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		if q.CountTotal {
			// Totals come from the lagging cache (cache.go), counted up to
			// its cap with the page when it needs that.
			var err error
			if probe, err = s.queueCountProbe(ctx, conn, b, q); err != nil {
				return err
			}
		}
		b.Queue(ps.stmt, ps.args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var it catalogstore.PageRow
				vals := make([]any, len(created))
				dest := []any{&it.View.Key, &it.View.Ref, &it.View.UID, &it.View.LocationID, &it.View.Body}
				for i := range vals {
					if created[i] {
						vals[i] = new(int64)
					} else {
						vals[i] = new(string)
					}
					dest = append(dest, vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				it.Keyset.Key = it.View.Key
				for _, v := range vals {
					switch t := v.(type) {
					case *int64:
						it.Keyset.Values = append(it.Keyset.Values, createdValue(*t))
					case *string:
						it.Keyset.Values = append(it.Keyset.Values, *t)
					}
				}
				items = append(items, it)
			}
			return rows.Err()
		})
		return conn.SendBatch(ctx, b).Close()
	})
	if err == nil && probe != nil {
		page.TotalItems, err = s.cachedCount(ctx, probe)
	}
	if err != nil {
		return catalogstore.Page{}, fmt.Errorf("catalog store (postgres): query: %w", err)
	}
	return catalogstore.FinishPage(ctx, page, q, items, s.decorate)
}

// maxKindParts is the most kinds a page's filter may name for the page to be
// read as the merge of each kind's first rows: each kind costs a read of a
// page's rows, and Backlot's catalog has ten kinds.
const maxKindParts = 16

// kindParts splits the filter of q by kind (catalogsql.SplitByKind) when its
// page is read as the merge of each kind's first rows: it has a limit, and
// its filter names a few kinds but is not a page of one kind's conjunction,
// which is read from one index directly.
func kindParts(q catalogstore.PageQuery) ([]catalogsql.KindPart, bool) {
	if q.Limit <= 0 || soleKind(q.Filter) {
		return nil, false
	}
	return catalogsql.SplitByKind(q.Filter, maxKindParts)
}

// soleKind says whether every entity f selects is of one kind: f is one
// conjunction, and one of its conditions names a single kind.
func soleKind(f catalogstore.Filter) bool {
	if len(f) != 1 {
		return false
	}
	for _, c := range f[0] {
		if strings.EqualFold(c.Key, "kind") && len(c.Values) == 1 {
			return true
		}
	}
	return false
}

// Facets counts facet values over the entities matching f, as the SQLite
// store does: values group case-insensitively and each shows the spelling of
// the entity created first.
func (s *Store) Facets(ctx context.Context, facets []string, f catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	out := make(map[string][]catalogstore.FacetCount, len(facets))
	err := func() error {
		// Answers come from the lagging cache (cache.go), at the positions
		// read with the lists the facets' item parts need.
		qs := s.facetQueries(facets, f)
		token, stored, err := s.tokenAndLists(ctx, facetLists(qs))
		if err != nil {
			return err
		}
		few := -1 // the matches counted up to the cache's limit, once asked
		for _, q := range qs {
			counts, err := s.cachedFacet(ctx, token, stored, q, &few)
			if err != nil {
				return err
			}
			out[q.facet] = counts
		}
		return nil
	}()
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): facets: %w", err)
	}
	return out, nil
}

// facetQuery is one facet of a Facets call: what its statement is rendered
// from (facetStmt).
type facetQuery struct {
	facet, key string
	f          catalogstore.Filter
	// lists are the lists the key can be an item of
	// (catalogsql.Dialect.ItemLists): its statement counts the item rows of
	// those stored in search_keys.
	lists []string
}

// facetQueries returns the facetQuery of each facet over the entities
// matching f.
func (s *Store) facetQueries(facets []string, f catalogstore.Filter) []facetQuery {
	d := s.dialect()
	qs := make([]facetQuery, len(facets))
	for i, facet := range facets {
		key := strings.ToLower(facet)
		qs[i] = facetQuery{facet: facet, key: key, f: f}
		if _, isColumn := catalogsql.ColumnFor[key]; !isColumn && !strings.HasPrefix(key, "relations.") {
			qs[i].lists = d.ItemLists(key)
		}
	}
	return qs
}

// facetLists returns the lists every facet of qs can count the items of.
func facetLists(qs []facetQuery) []string {
	var out []string
	for _, q := range qs {
		for _, l := range q.lists {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// facetStmt renders the one statement of q's counts: with its item rows'
// part (catalogsql.FacetStatement) when one of q's lists is stored.
func (s *Store) facetStmt(q facetQuery, stored map[string]bool) facetStmt {
	a := catalogsql.NewArgs(s.dialect())
	f := q.f
	switch {
	case q.key == "metadata.namespace":
		return facetStmt{`SELECT e.namespace, count(*) FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + ` GROUP BY e.namespace ORDER BY e.namespace`, a.Values()}
	case strings.HasPrefix(q.key, "relations."):
		rel := strings.TrimPrefix(q.key, "relations.")
		// An entity's relations of a type are those it declares and the
		// reverses, of that type, of those declared toward it.
		ph, where := a.Add(rel), catalogsql.Filter(f, catalogsql.PerRow, a)
		return facetStmt{catalogsql.RelationFacet(ph, where), a.Values()}
	}
	if col, spelling, ok := a.Dialect().ColumnFacet(q.key); ok {
		return facetStmt{catalogsql.ColumnFacetStatement(col, spelling, `entities e WHERE `+catalogsql.Filter(f, catalogsql.PerRow, a)), a.Values()}
	}
	k := a.Add(q.key)
	inner := `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID(k) + ` AND value <> '' GROUP BY value`
	if len(f) > 0 {
		inner = `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID(k) + ` AND value <> ''
			AND eid IN (SELECT e.eid FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + `) GROUP BY value`
	}
	spelling := `(SELECT COALESCE(s2.original, s2.value) FROM search s2 WHERE s2.kid = ` + catalogsql.KeyID(k) + ` AND s2.value = f.value ORDER BY s2.eid LIMIT 1)`
	items := ""
	if slices.ContainsFunc(q.lists, func(l string) bool { return stored[l] }) {
		var where func() string
		if len(f) > 0 {
			where = func() string { return catalogsql.Filter(f, catalogsql.PerRow, a) }
		}
		items = catalogsql.ItemFacet(q.key, a, where)
	}
	return facetStmt{catalogsql.FacetStatement(spelling, inner, items), a.Values()}
}
