package pgcatalog

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
)

// PageStatement returns the statement and arguments Query runs for q's page,
// for tests that read its plan.
func PageStatement(s *Store, q catalogstore.PageQuery) (string, []any) {
	p := s.pageSQL(q)
	return p.stmt, p.args
}

// CachedKeys returns how many search keys' ids s keeps.
func CachedKeys(s *Store) int { return s.keys.len() }

// CountStatement returns the capped count Query runs for q's total, with
// the kinds' first eids as they are now, for tests that read its plan.
func CountStatement(ctx context.Context, s *Store, q catalogstore.PageQuery) (string, []any, error) {
	var stmt string
	var args []any
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		firsts, err := firstEids(ctx, conn, q)
		if err != nil {
			return err
		}
		from, a := s.countFrom(q, firsts)
		stmt, args = cappedCount(from, s.cache.Options().ExactUpTo), a
		return nil
	})
	return stmt, args, err
}

// WholeCountStatement returns the count of every match of q the lagging
// cache runs when no capped count will do, for tests that read its plan.
func WholeCountStatement(s *Store, q catalogstore.PageQuery) (string, []any) {
	return s.wholeCount(q)
}

// LocationFiles lists the files of a location's entities, as Owned does
// when a refresh keeps some of them.
func LocationFiles(ctx context.Context, s *Store, locationID string) ([]string, error) {
	return s.locationFiles(ctx, locationID)
}

// FacetStatements returns the statements Facets runs for facets over the
// entities matching f, one per facet, with the lists stored as they are
// now, for tests that read their plans.
func FacetStatements(ctx context.Context, s *Store, facets []string, f catalogstore.Filter) ([]string, [][]any, error) {
	qs := s.facetQueries(facets, f)
	_, stored, err := s.tokenAndLists(ctx, facetLists(qs))
	if err != nil {
		return nil, nil, err
	}
	var stmts []string
	var args [][]any
	for _, q := range qs {
		fs := s.facetStmt(q, stored)
		stmts, args = append(stmts, fs.stmt), append(args, fs.args)
	}
	return stmts, args, nil
}

// LoadEntitiesSQL is the statement a fold reads its batch's entities with.
const LoadEntitiesSQL = loadEntitiesSQL

// BulkSettings sets tx apart as a batch folded in bulk is.
func BulkSettings(ctx context.Context, tx pgx.Tx) error { return bulkSettings(ctx, tx) }

// MergeSearchPlan returns the plan of the select with which the merge of a
// replay's set-aside rows inserts its search rows, planned as the merge plans
// it (after its analyze of the side tables), in a transaction rolled back.
func MergeSearchPlan(ctx context.Context, s *Store) (string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, mergeAnalyzeSQL); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, `EXPLAIN (COSTS OFF) `+mergeSearchSQL)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// AnalyzeTables runs the ANALYZE of the tables a fold fills, as the store
// does after growth.
func (s *Store) AnalyzeTables(ctx context.Context) error { return analyzeTables(ctx, s.pool) }

// SetBulkFolds sets how many transactions of a bulk fold a store opened
// after runs at once, for benchmarks.
func SetBulkFolds(n int) { bulkFolds = n }

// PositionLockClass is the first key of the per-partition advisory locks.
const PositionLockClass = positionLockClass
