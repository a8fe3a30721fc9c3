package sqlitecatalog

// PreparedUsed counts the Applies that folded a batch Prepare decoded.
func (s *Store) PreparedUsed() int {
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	return s.aheadUsed
}

// IncomingRelationsSQL is the statement decorate reads the relations toward
// n keys with, as the store renders it now.
func (s *Store) IncomingRelationsSQL(n int) string {
	with, where := s.byTarget(`r.target IN (` + placeholders(n) + `)`)
	return with + `SELECT r.target, r.reverse, o.ref FROM relations r JOIN entities o ON o.eid = r.origin WHERE ` + where
}
