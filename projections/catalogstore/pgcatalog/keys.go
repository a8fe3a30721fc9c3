package pgcatalog

import (
	"context"
	"time"

	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

// keysReloadEvery bounds how often a query that names a search key this
// process has not seen reloads the key ids.
const keysReloadEvery = time.Second

// dialect is baseDialect naming the search keys this process knows by their
// ids: a statement then compares kid with a value whose selectivity the
// planner reads from its statistics, where a subquery's result it must
// guess (a by-query page over a third of 100,000 components took 94 ms with
// the subquery, a plan that walks every match).
func (s *Store) dialect() catalogsql.Dialect {
	d := baseDialect
	d.KnownKey = s.knownKey
	return d
}

// knownKey returns the id of a search key stored in search_keys. A key's id
// never changes once given (rows of search_keys are never updated or
// removed), so ids once read stay right. A key not known here yet starts a
// reload of every id in the background, at most once per keysReloadEvery,
// and the statement looks it up itself meanwhile.
func (s *Store) knownKey(key string) (any, bool) {
	if id, ok := s.keys.Load(key); ok {
		return id, true
	}
	s.reloadKeys()
	return nil, false
}

// reloadKeys reads every key's id into s.keys in the background, unless a
// reload started less than keysReloadEvery ago.
func (s *Store) reloadKeys() {
	now := time.Now().UnixNano()
	last := s.keysLoaded.Load()
	if now-last < int64(keysReloadEvery) || !s.keysLoaded.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rows, err := s.pool.Query(ctx, `SELECT id, key FROM search_keys`)
		if err != nil {
			return // the next unknown key tries again
		}
		defer rows.Close()
		for rows.Next() {
			var id int32
			var key string
			if rows.Scan(&id, &key) != nil {
				return
			}
			s.keys.Store(key, id)
		}
	}()
}
