package pgcatalog

import "backlot.dev/backlot/projections/catalogstore"

// PageStatement returns the statement and arguments Query runs for q's page,
// for tests that read its plan.
func PageStatement(s *Store, q catalogstore.PageQuery) (string, []any) {
	p := s.pageSQL(q)
	return p.stmt, p.args
}

// CachedKeys returns how many search keys' ids s keeps.
func CachedKeys(s *Store) int { return s.keys.len() }
