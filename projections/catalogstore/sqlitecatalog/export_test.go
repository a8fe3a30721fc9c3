package sqlitecatalog

// PreparedUsed counts the Applies that folded a batch Prepare decoded.
func (s *Store) PreparedUsed() int {
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	return s.aheadUsed
}

// IncomingRelationsSQL is the statement decorate reads the relations toward
// a JSON array of keys with, as the store renders it now.
func (s *Store) IncomingRelationsSQL() string { return s.reverseOfKeys() }
