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
				firsts, err := firstEids(ctx, conn, p.q)
				if err != nil {
					return err
				}
				from, args := s.countFrom(p.q, firsts)
				return conn.QueryRow(ctx, `SELECT count(*) FROM `+from, args...).Scan(&n)
			})
			return int(n), token, int(n) <= limit, err
		})
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return a.Value.(int), nil
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

// facetStmt is a statement of facet counts (value, count) and its arguments.
type facetStmt struct {
	stmt string
	args []any
}

// facetAndItems runs a facet statement and, when set, the statement of its
// item rows' part (catalogsql.ItemFacet), and merges their answers.
// Both go in one round trip.
func (s *Store) facetAndItems(ctx context.Context, facet string, fs facetStmt, items *facetStmt) ([]catalogstore.FacetCount, error) {
	if items == nil {
		return s.facetRows(ctx, facet, fs.stmt, fs.args)
	}
	var counts, more []catalogstore.FacetCount
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		for _, q := range []struct {
			fs  facetStmt
			out *[]catalogstore.FacetCount
		}{{fs, &counts}, {*items, &more}} {
			b.Queue(q.fs.stmt, q.fs.args...).Query(func(rows pgx.Rows) error {
				*q.out = []catalogstore.FacetCount{}
				for rows.Next() {
					var fc catalogstore.FacetCount
					var n int64
					if err := rows.Scan(&fc.Value, &n); err != nil {
						return err
					}
					fc.Count = int(n)
					*q.out = append(*q.out, fc)
				}
				return rows.Err()
			})
		}
		return conn.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("facet %s: %w", facet, err)
	}
	return catalogstore.MergeItemFacet(counts, more), nil
}

// facetRows runs a facet statement.
func (s *Store) facetRows(ctx context.Context, facet, stmt string, args []any) ([]catalogstore.FacetCount, error) {
	counts := []catalogstore.FacetCount{}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, stmt, args...)
		if err != nil {
			return fmt.Errorf("facet %s: %w", facet, err)
		}
		defer rows.Close()
		for rows.Next() {
			var fc catalogstore.FacetCount
			var n int64
			if err := rows.Scan(&fc.Value, &n); err != nil {
				return fmt.Errorf("facet %s: %w", facet, err)
			}
			fc.Count = int(n)
			counts = append(counts, fc)
		}
		return rows.Err()
	})
	return counts, err
}

// cachedFacet returns the answer of a facet statement over the entities
// matching f through the lagging cache, at positions token: exact when at most
// the cache's ExactUpTo entities match. few caches, across the facets of one
// request, how many do (counted up to the limit; negative until counted).
// items, when set, is the statement of the facet's item rows' part
// (catalogsql.ItemFacet), merged into the answer.
func (s *Store) cachedFacet(ctx context.Context, token, facet string, fs facetStmt, items *facetStmt, f catalogstore.Filter, few *int) ([]catalogstore.FacetCount, error) {
	ans, err := s.cache.Get(ctx, catalogstore.CacheKey("facet", fs.stmt, fs.args), token,
		func(ctx context.Context, limit int) (any, bool, error) {
			if *few < 0 {
				n, err := s.countUpTo(ctx, catalogstore.PageQuery{Filter: f}, limit)
				if err != nil {
					return nil, false, err
				}
				*few = n
			}
			if *few > limit {
				return nil, false, nil
			}
			counts, err := s.facetAndItems(ctx, facet, fs, items)
			return counts, err == nil, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			token, err := s.token(ctx)
			if err != nil {
				return nil, "", false, err
			}
			n, err := s.countUpTo(ctx, catalogstore.PageQuery{Filter: f}, limit)
			if err != nil {
				return nil, "", false, err
			}
			counts, err := s.facetAndItems(ctx, facet, fs, items)
			return counts, token, n <= limit, err
		})
	if err != nil {
		return nil, err
	}
	return ans.Value.([]catalogstore.FacetCount), nil
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
