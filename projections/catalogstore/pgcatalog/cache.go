package pgcatalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
)

// Counts and facet answers go through a catalogstore.LagCache keyed by the
// positions of the read model they were computed at. Every Apply that changes
// the read model moves a position in the same transaction, in whichever
// process it runs; a reader reads the positions before it queries, so an
// answer is at least as new as the positions it is stored under. Each step
// takes its own connection and none holds one while it waits for another.

// LagStats returns the work of the store's count and facet cache: how many
// full recounts ran and how many answers lagged behind a write.
func (s *Store) LagStats() catalogstore.LagStats { return s.cache.Stats() }

// token reads the read model's positions on a connection of its own.
func (s *Store) token(ctx context.Context) (string, error) {
	var token string
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		var err error
		token, err = positionsToken(ctx, conn)
		return err
	})
	return token, err
}

// countProbe is a count of up to the cache's ExactUpTo+1 rows, queued with a
// page when the lagging cache needs it (see cachedCount).
type countProbe struct {
	q           catalogstore.PageQuery
	from, token string // from names the count in the cache (countFrom without bounds)
	args        []any
	n           int64 // -1 until counted
}

// queueCountProbe reads the positions on conn and, when the cache needs the
// capped count of q's matches, the kinds' first eids after them (so that
// every entity the positions hold is at or after them), and queues the
// count on b.
func (s *Store) queueCountProbe(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, q catalogstore.PageQuery) (*countProbe, error) {
	token, err := positionsToken(ctx, conn)
	if err != nil {
		return nil, err
	}
	from, args := s.countFrom(q, nil)
	p := &countProbe{q: q, from: from, token: token, args: args, n: -1}
	if s.cache.NeedsProbe(catalogstore.CacheKey("count", from, args), token) {
		firsts, err := firstEids(ctx, conn, q)
		if err != nil {
			return nil, err
		}
		bfrom, bargs := s.countFrom(q, firsts)
		b.Queue(cappedCount(bfrom, s.cache.Options().ExactUpTo), bargs...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&p.n)
		})
	}
	return p, nil
}

func cappedCount(from string, limit int) string {
	return fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d) c`, from, limit+1)
}

// cachedCount returns the count of p's matches through the lagging cache:
// exact when at most the cache's ExactUpTo rows match.
func (s *Store) cachedCount(ctx context.Context, p *countProbe) (int, error) {
	a, err := s.cache.Get(ctx, catalogstore.CacheKey("count", p.from, p.args), p.token,
		func(ctx context.Context, limit int) (any, bool, error) {
			if p.n >= 0 {
				return int(p.n), int(p.n) <= limit, nil
			}
			n, err := s.countUpTo(ctx, p.q, limit)
			return n, n <= limit, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			var n int64
			var token string
			err := s.withConn(ctx, func(conn *pgx.Conn) error {
				var err error
				if token, err = positionsToken(ctx, conn); err != nil {
					return err
				}
				stmt, args := s.wholeCount(p.q)
				return conn.QueryRow(ctx, stmt, args...).Scan(&n)
			})
			return int(n), token, int(n) <= limit, err
		})
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return a.Value.(int), nil
}

// wholeCount renders the count of every match of q, which the lagging
// cache runs on the first request of a count over many matches and in its
// refreshes. It reads every match, so it is rendered without the kinds'
// first eids, which only let a capped count stop early (countFrom): the
// bounds are values the planner sees, and before the statistics catch up
// with an ingestion, the histogram of eids ends before the last kinds
// folded. The planner then took the bound on the entities for a short range
// of the primary key, and read the bodies of every entity from the kind's
// first eid on to test their kind. At 300,000 entities, the first by-query
// page right after ingestion (components in production: 126,000 matches)
// read 182,000 buffers of entities that way (2.6 s under EXPLAIN ANALYZE,
// on a busy machine); without the bounds the planner reads the kind from
// its index, or the table in one sequential pass (at 1,000,000: 1.4 s
// before the bounds, 2.8 s with them). The same 300,000 entities with half
// the components updated since the statistics, alternately: with the bounds
// 282,000 and 222,000 buffers, 4.7 and 3.0 s; without, a sequential scan of
// 75,000 buffers, 1.9 and 1.5 s.
func (s *Store) wholeCount(q catalogstore.PageQuery) (string, []any) {
	from, args := s.countFrom(q, nil)
	return `SELECT count(*) FROM ` + from, args
}

// countUpTo counts the matches of q, stopping past limit.
func (s *Store) countUpTo(ctx context.Context, q catalogstore.PageQuery, limit int) (int, error) {
	var n int64
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		firsts, err := firstEids(ctx, conn, q)
		if err != nil {
			return err
		}
		from, args := s.countFrom(q, firsts)
		return conn.QueryRow(ctx, cappedCount(from, limit), args...).Scan(&n)
	})
	return int(n), err
}

// facetStmt is a statement of facet counts and its arguments: rows (value,
// count), or (value, count, item) where the row of item true is the count
// of the item rows' part (catalogsql.FacetStatement).
type facetStmt struct {
	stmt string
	args []any
}

// facetRows runs a facet statement and merges the count of its item rows'
// part, when it has one, into the others (catalogstore.MergeItemFacet).
func (s *Store) facetRows(ctx context.Context, facet string, fs facetStmt) ([]catalogstore.FacetCount, error) {
	counts, more := []catalogstore.FacetCount{}, []catalogstore.FacetCount{}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, fs.stmt, fs.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		withItem := len(rows.FieldDescriptions()) == 3
		for rows.Next() {
			var fc catalogstore.FacetCount
			var n int64
			var item bool
			dest := []any{&fc.Value, &n}
			if withItem {
				dest = append(dest, &item)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			fc.Count = int(n)
			if item {
				more = append(more, fc)
			} else {
				counts = append(counts, fc)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("facet %s: %w", facet, err)
	}
	return catalogstore.MergeItemFacet(counts, more), nil
}

// cachedFacet returns the answer of q through the lagging cache, at
// positions token, when the lists of stored were stored (tokenAndLists):
// exact when at most the cache's ExactUpTo entities match. few caches,
// across the facets of one request, how many do (counted up to the limit;
// negative until counted). A refresh reads the positions and the lists again.
func (s *Store) cachedFacet(ctx context.Context, token string, stored map[string]bool, q facetQuery, few *int) ([]catalogstore.FacetCount, error) {
	fs := s.facetStmt(q, stored)
	ans, err := s.cache.Get(ctx, catalogstore.CacheKey("facet", fs.stmt, fs.args), token,
		func(ctx context.Context, limit int) (any, bool, error) {
			if *few < 0 {
				n, err := s.countUpTo(ctx, catalogstore.PageQuery{Filter: q.f}, limit)
				if err != nil {
					return nil, false, err
				}
				*few = n
			}
			if *few > limit {
				return nil, false, nil
			}
			counts, err := s.facetRows(ctx, q.facet, fs)
			return counts, err == nil, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			token, stored, err := s.tokenAndLists(ctx, q.lists)
			if err != nil {
				return nil, "", false, err
			}
			n, err := s.countUpTo(ctx, catalogstore.PageQuery{Filter: q.f}, limit)
			if err != nil {
				return nil, "", false, err
			}
			counts, err := s.facetRows(ctx, q.facet, s.facetStmt(q, stored))
			return counts, token, n <= limit, err
		})
	if err != nil {
		return nil, err
	}
	return ans.Value.([]catalogstore.FacetCount), nil
}

// tokenAndLists reads, in one statement on a connection of its own, the
// read model's positions (positionsToken) and which of lists are stored
// search keys: a list whose items a facet counts has a key of its own when
// an item row of it was stored before the positions moved past it, so a
// facet statement that counts the item rows of the lists stored (facetStmt)
// answers at least as new as the positions.
func (s *Store) tokenAndLists(ctx context.Context, lists []string) (string, map[string]bool, error) {
	if len(lists) == 0 {
		token, err := s.token(ctx)
		return token, nil, err
	}
	var token *string
	var keys []string
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT (SELECT string_agg(partition || ':' || position, ',' ORDER BY partition) FROM positions WHERE name = $1),
			ARRAY(SELECT key FROM search_keys WHERE key = ANY($2::text[]))`, catalogstore.ProjectionName, lists).Scan(&token, &keys)
	})
	if err != nil {
		return "", nil, fmt.Errorf("read positions and lists: %w", err)
	}
	stored := make(map[string]bool, len(keys))
	for _, k := range keys {
		stored[k] = true
	}
	if token == nil {
		return "", stored, nil
	}
	return *token, stored, nil
}

// positionsToken reads the read model's positions as one string, the
// generation of the result cache.
func positionsToken(ctx context.Context, conn *pgx.Conn) (string, error) {
	var token *string
	err := conn.QueryRow(ctx, `SELECT string_agg(partition || ':' || position, ',' ORDER BY partition) FROM positions WHERE name = $1`,
		catalogstore.ProjectionName).Scan(&token)
	if err != nil {
		return "", fmt.Errorf("read positions: %w", err)
	}
	if token == nil {
		return "", nil
	}
	return *token, nil
}
