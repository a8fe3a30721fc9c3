package sqlitecatalog

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"backlot.dev/backlot/projections/catalogstore"
)

// resultCache keeps counts and facet answers (catalogstore.LagCache) with the
// generation of the read model they were computed at. Every Apply that commits
// starts a new generation; a reader notes the generation before it queries, so
// an answer is at least as new as the generation it is stored under.
type resultCache struct {
	gen atomic.Uint64
	lag *catalogstore.LagCache
}

func (c *resultCache) generation() string {
	return strconv.FormatUint(c.gen.Load(), 10)
}

func (c *resultCache) invalidate() {
	c.gen.Add(1)
}

// LagStats returns the work of the store's count and facet cache: how many
// full recounts ran and how many answers lagged behind a write.
func (s *Store) LagStats() catalogstore.LagStats { return s.cache.lag.Stats() }

// cachedCount returns `SELECT count(*) FROM ` + from through the lagging
// cache: exact when at most the cache's ExactUpTo rows match.
func (s *Store) cachedCount(ctx context.Context, from string, args []any) (int, error) {
	key := catalogstore.CacheKey("count", from, args)
	a, err := s.cache.lag.Get(ctx, key, s.cache.generation(),
		func(ctx context.Context, limit int) (any, bool, error) {
			n, err := s.countUpTo(ctx, from, args, limit)
			return n, n <= limit, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			gen := s.cache.generation()
			var n int
			if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM `+from, args...).Scan(&n); err != nil {
				return nil, "", false, fmt.Errorf("catalog store: count: %w", err)
			}
			return n, gen, n <= limit, nil
		})
	if err != nil {
		return 0, err
	}
	return a.Value.(int), nil
}

// countUpTo counts the rows of from, stopping past limit.
func (s *Store) countUpTo(ctx context.Context, from string, args []any, limit int) (int, error) {
	var n int
	stmt := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d)`, from, limit+1)
	if err := s.read.QueryRowContext(ctx, stmt, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog store: count: %w", err)
	}
	return n, nil
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
	rows, err := s.read.QueryContext(ctx, fs.stmt, fs.args...)
	if err != nil {
		return nil, fmt.Errorf("catalog store: facet %s: %w", facet, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("catalog store: facet %s: %w", facet, err)
	}
	counts, more := []catalogstore.FacetCount{}, []catalogstore.FacetCount{}
	for rows.Next() {
		var fc catalogstore.FacetCount
		var item bool
		dest := []any{&fc.Value, &fc.Count}
		if len(cols) == 3 {
			dest = append(dest, &item)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("catalog store: facet %s: %w", facet, err)
		}
		if item {
			more = append(more, fc)
		} else {
			counts = append(counts, fc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store: facet %s: %w", facet, err)
	}
	return catalogstore.MergeItemFacet(counts, more), nil
}

// cachedFacet returns the answer of q over fq's matches through the lagging
// cache, at generation gen, when the lists of stored were stored
// (storedLists, read after gen): exact when at most the cache's ExactUpTo
// entities match. few caches, across the facets of one request, how many do
// (counted up to the limit; negative until counted). A refresh reads the
// generation and the lists again.
func (s *Store) cachedFacet(ctx context.Context, gen string, stored map[string]bool, fq facetsQuery, q facetQuery, few *int) ([]catalogstore.FacetCount, error) {
	fs := facetStmtOf(fq, q, stored)
	ans, err := s.cache.lag.Get(ctx, catalogstore.CacheKey("facet", fs.stmt, fs.args), gen,
		func(ctx context.Context, limit int) (any, bool, error) {
			if *few < 0 {
				n, err := s.countUpTo(ctx, `entities e WHERE `+fq.where, fq.args, limit)
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
			gen := s.cache.generation()
			stored, err := s.storedLists(ctx, q.lists)
			if err != nil {
				return nil, "", false, err
			}
			n, err := s.countUpTo(ctx, `entities e WHERE `+fq.where, fq.args, limit)
			if err != nil {
				return nil, "", false, err
			}
			counts, err := s.facetRows(ctx, q.facet, facetStmtOf(fq, q, stored))
			return counts, gen, n <= limit, err
		})
	if err != nil {
		return nil, err
	}
	return ans.Value.([]catalogstore.FacetCount), nil
}
