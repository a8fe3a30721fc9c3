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

// facetStmt is a statement of facet counts (value, count) and its arguments.
type facetStmt struct {
	stmt string
	args []any
	// guard, when set, are search keys one of which must be stored for the
	// statement to count anything: it runs only then.
	guard []any
}

// facetRows runs a facet statement.
func (s *Store) facetRows(ctx context.Context, facet string, fs facetStmt) ([]catalogstore.FacetCount, error) {
	rows, err := s.read.QueryContext(ctx, fs.stmt, fs.args...)
	if err != nil {
		return nil, fmt.Errorf("catalog store: facet %s: %w", facet, err)
	}
	defer rows.Close()
	counts := []catalogstore.FacetCount{}
	for rows.Next() {
		var fc catalogstore.FacetCount
		if err := rows.Scan(&fc.Value, &fc.Count); err != nil {
			return nil, err
		}
		counts = append(counts, fc)
	}
	return counts, rows.Err()
}

// cachedFacet returns the answer of a facet statement over the entities
// matching where through the lagging cache: exact when at most the cache's
// ExactUpTo entities match. few caches, across the facets of one request,
// whether they do. items, when set, is the statement of the facet's item
// rows' part (catalogsql.ItemFacet), merged into the answer.
func (s *Store) cachedFacet(ctx context.Context, facet string, fs facetStmt, items *facetStmt, where string, args []any, few *int) ([]catalogstore.FacetCount, error) {
	stmt, a := fs.stmt, fs.args
	run := func(ctx context.Context) ([]catalogstore.FacetCount, error) {
		counts, err := s.facetRows(ctx, facet, fs)
		if err != nil || items == nil {
			return counts, err
		}
		if len(items.guard) > 0 {
			// Most keys have no list among their prefixes (spec is no key):
			// a lookup of the prefixes answers those, where the statement's
			// own condition on them would be tested after its subqueries.
			var some bool
			err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_keys WHERE key IN (`+placeholders(len(items.guard))+`))`, items.guard...).Scan(&some)
			if err != nil || !some {
				return counts, err
			}
		}
		more, err := s.facetRows(ctx, facet, *items)
		return catalogstore.MergeItemFacet(counts, more), err
	}
	ans, err := s.cache.lag.Get(ctx, catalogstore.CacheKey("facet", stmt, a), s.cache.generation(),
		func(ctx context.Context, limit int) (any, bool, error) {
			if *few < 0 {
				n, err := s.countUpTo(ctx, `entities e WHERE `+where, args, limit)
				if err != nil {
					return nil, false, err
				}
				*few = n
			}
			if *few > limit {
				return nil, false, nil
			}
			counts, err := run(ctx)
			return counts, err == nil, err
		},
		func(ctx context.Context, limit int) (any, string, bool, error) {
			gen := s.cache.generation()
			n, err := s.countUpTo(ctx, `entities e WHERE `+where, args, limit)
			if err != nil {
				return nil, "", false, err
			}
			counts, err := run(ctx)
			return counts, gen, n <= limit, err
		})
	if err != nil {
		return nil, err
	}
	return ans.Value.([]catalogstore.FacetCount), nil
}
