package catalogstore

import (
	"context"
	"fmt"
)

// BulkLoader is implemented by stores that fold a long backlog faster without
// some of their indexes: the projector calls BeginBulk when it is far behind the
// log and EndBulk before it reports the position that catches it up. Queries stay
// correct in between, only slower.
type BulkLoader interface {
	BeginBulk(ctx context.Context) error
	EndBulk(ctx context.Context) error
}

// bulkIndexes are the indexes that take random inserts on every entity; they are
// dropped during a bulk load and rebuilt at its end by one sort each.
var bulkIndexes = []struct{ name, create string }{
	{"search_key_value", `CREATE INDEX IF NOT EXISTS search_key_value ON search(key, value, eid)`},
	{"relations_type_target", `CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target, source)`},
}

var _ BulkLoader = (*SQLite)(nil)

// BeginBulk drops the bulk indexes.
func (s *SQLite) BeginBulk(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ix := range bulkIndexes {
		if _, err := s.write.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return fmt.Errorf("catalog store: begin bulk: %w", err)
		}
	}
	return nil
}

// EndBulk rebuilds the bulk indexes.
func (s *SQLite) EndBulk(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ensureIndexes(ctx, s)
}

// ensureIndexes creates the bulk indexes when missing, as after a crash during
// a bulk load.
func ensureIndexes(ctx context.Context, s *SQLite) error {
	// The sorter of CREATE INDEX keeps up to cache_size of memory before it spills
	// to disk; a small cache keeps a rebuild over millions of rows out of RAM.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -8192`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, s.cacheKiB))
	for _, ix := range bulkIndexes {
		if _, err := conn.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("catalog store: create index %s: %w", ix.name, err)
		}
	}
	s.cache.invalidate()
	return nil
}
