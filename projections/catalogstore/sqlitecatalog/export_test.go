package sqlitecatalog

// PreparedUsed counts the Applies that folded a batch Prepare decoded.
func (s *Store) PreparedUsed() int {
	s.aheadMu.Lock()
	defer s.aheadMu.Unlock()
	return s.aheadUsed
}
