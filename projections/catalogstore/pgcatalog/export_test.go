package pgcatalog

import "backlot.dev/backlot/projections/catalogstore"

// PageStatement returns the statement and arguments Query runs for q's page,
// for tests that read its plan.
func PageStatement(s *Store, q catalogstore.PageQuery) (string, []any) {
	p := s.pageSQL(q)
	return p.stmt, p.args
}
