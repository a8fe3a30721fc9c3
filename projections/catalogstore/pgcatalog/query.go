package pgcatalog

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

// baseDialect is PostgreSQL's spelling of the conditions the adapters share;
// values of the creation order are position/partition pairs.
var baseDialect = catalogsql.Dialect{Postgres: true, CreatedArg: func(v string) any { return parseCreated(v) }, ItemRows: true}

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
	// A page of one kind is read in order from an index that leads with kind
	// (catalogsql.PerRowKindRange), however the kinds are spread over the
	// catalog's creation order or names: its filter names the kind as a
	// range, and it is ordered by kind first, which is the same order.
	oneKind := soleKind(q.Filter)
	mode, kindCol := catalogsql.PerRow, ""
	if oneKind {
		mode, kindCol = catalogsql.PerRowKindRange, "e.kind, "
	}
	// The page is chosen on narrow rows (eid, key and the sort values), then
	// joined to the entities for their bodies: sorting and skipping never carry
	// a body along, and an index on (kind, eid) can serve the default order alone.
	inner := `SELECT * FROM (SELECT e.eid, e.key, ` + kindCol + strings.Join(sortCols, ", ") +
		` FROM entities e WHERE ` + pageWhere(q, mode, a) + `) e`
	backward := q.Before != nil
	switch {
	case q.After != nil:
		inner += ` WHERE ` + catalogsql.KeysetCond(order, created, q.After, false, a)
	case q.Before != nil:
		inner += ` WHERE ` + catalogsql.KeysetCond(order, created, q.Before, true, a)
	}
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
	inner += ` ORDER BY `
	if oneKind {
		// In the direction of the first sort column, so an index of kind and
		// that column serves the order alone, forward or backward.
		inner += `e.kind ` + catalogsql.Dir(order[0].Desc != backward) + `, `
	}
	inner += orderBy("e")
	// As in the SQLite store, an offset is ignored with a keyset only when the
	// page has a limit.
	if q.Limit > 0 {
		inner += fmt.Sprintf(" LIMIT %d", q.Limit+1)
		if q.Offset > 0 && q.After == nil && q.Before == nil {
			inner += fmt.Sprintf(" OFFSET %d", q.Offset)
		}
	} else if q.Offset > 0 {
		inner += fmt.Sprintf(" OFFSET %d", q.Offset)
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
			// its cap with the page when it needs that. A count has no
			// order for the kind's range to steer: it keeps the equality,
			// with which the planner can merge the kind's eids with search
			// rows (at 100,000 entities, vacuumed: 21 ms; with the range,
			// a hash join of 190 ms).
			ca := catalogsql.NewArgs(s.dialect())
			var err error
			if probe, err = s.queueCountProbe(ctx, conn, b, `entities e WHERE `+pageWhere(q, catalogsql.PerRow, ca), ca.Values()); err != nil {
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
		// Answers come from the lagging cache (cache.go).
		token, err := s.token(ctx)
		if err != nil {
			return err
		}
		few := -1 // the matches counted up to the cache's limit, once asked
		for _, facet := range facets {
			key := strings.ToLower(facet)
			a := catalogsql.NewArgs(s.dialect())
			var stmt string
			switch {
			case key == "metadata.namespace":
				stmt = `SELECT e.namespace, count(*) FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + ` GROUP BY e.namespace ORDER BY e.namespace`
			case strings.HasPrefix(key, "relations."):
				rel := strings.TrimPrefix(key, "relations.")
				// An entity's relations of a type are those it declares and the
				// reverses, of that type, of those declared toward it.
				ph, where := a.Add(rel), catalogsql.Filter(f, catalogsql.PerRow, a)
				stmt = catalogsql.RelationFacet(ph, where)
			default:
				k := a.Add(key)
				inner := `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID(k) + ` AND value <> '' GROUP BY value`
				if len(f) > 0 {
					inner = `SELECT value, count(*) AS n FROM search WHERE kid = ` + catalogsql.KeyID(k) + ` AND value <> ''
						AND eid IN (SELECT e.eid FROM entities e WHERE ` + catalogsql.Filter(f, catalogsql.PerRow, a) + `) GROUP BY value`
				}
				stmt = `SELECT (SELECT COALESCE(s2.original, s2.value) FROM search s2 WHERE s2.kid = ` + catalogsql.KeyID(k) + ` AND s2.value = f.value ORDER BY s2.eid LIMIT 1), f.n
					FROM (` + inner + `) f ORDER BY f.value`
			}
			var items *facetStmt
			if stmt, args, ok := s.itemFacet(key, f); ok {
				items = &facetStmt{stmt, args}
			}
			counts, err := s.cachedFacet(ctx, token, facet, facetStmt{stmt, a.Values()}, items, f, &few)
			if err != nil {
				return err
			}
			out[facet] = counts
		}
		return nil
	}()
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): facets: %w", err)
	}
	return out, nil
}

// itemFacet renders the item rows' part of a facet on key over the entities
// matching f (catalogsql.ItemFacet), when key can be an item key.
func (s *Store) itemFacet(key string, f catalogstore.Filter) (string, []any, bool) {
	d := s.dialect()
	if key == "metadata.namespace" || strings.HasPrefix(key, "relations.") || !d.MayBeItemKey(catalogstore.Condition{Key: key}, key) {
		return "", nil, false
	}
	a := catalogsql.NewArgs(d)
	var where func() string
	if len(f) > 0 {
		where = func() string { return catalogsql.Filter(f, catalogsql.PerRow, a) }
	}
	return catalogsql.ItemFacet(key, a, where), a.Values(), true
}
