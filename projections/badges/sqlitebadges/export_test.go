package sqlitebadges

// OpenCheckpointingEvery opens the store at path with a checkpoint every pages
// pages of write-ahead log instead of 10,000, so a test reaches the threshold
// with a small catch-up.
func OpenCheckpointingEvery(path string, pages int) (*Store, error) { return open(path, pages) }

// LeaveWALToSQLite turns the store's WALGuard off, as the store was before
// it, for benchmarks that compare.
func LeaveWALToSQLite(s *Store) { s.wal.Limit = 1 << 62 }
