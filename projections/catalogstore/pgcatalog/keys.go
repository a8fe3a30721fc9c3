package pgcatalog

import (
	"context"
	"sync"
	"time"

	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

// keyCacheSize bounds how many search keys' ids a Store keeps. A catalog
// names about as many keys as it holds entities (each dependsOn target, each
// annotation is one), so a store that kept them all grew with the catalog: at
// 1,000,000 entities about 0.9 million keys, a few hundred megabytes in each
// process. The keys queries name (kind, spec.type, an owner, a lifecycle) and
// the keys a fold writes again and again are few; 65,536 of them take a few
// megabytes.
const keyCacheSize = 1 << 16

// keyLookupEvery bounds how often a query that names a key the store does not
// know looks it up: a key that exists nowhere (a filter on a misspelt field)
// would otherwise cost a look-up per request.
const keyLookupEvery = time.Second

// keyCache is a bounded map from search keys to their ids in search_keys, in
// two generations: a key is added to the current one, and when that is full
// the older generation is dropped and the current one becomes it. A key read
// from the older generation moves back into the current one, so the keys in
// use stay and those no longer named leave. Ids never change once given (rows
// of search_keys are never updated or removed), so an id once cached stays
// right for as long as it is kept.
type keyCache struct {
	mu       sync.Mutex
	cur, old map[string]int32
	// half is the size of a full generation.
	half int
	// asked holds when a key was last looked up for a query (knownKey), and
	// pending the keys being looked up now.
	asked   map[string]time.Time
	pending map[string]bool
}

// newKeyCache returns a cache that keeps at most size keys.
func newKeyCache(size int) *keyCache {
	half := max(size/2, 1)
	return &keyCache{cur: map[string]int32{}, old: map[string]int32{}, half: half,
		asked: map[string]time.Time{}, pending: map[string]bool{}}
}

// get returns the id of key when the cache holds it.
func (c *keyCache) get(key string) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.cur[key]; ok {
		return id, true
	}
	id, ok := c.old[key]
	if ok {
		c.putLocked(key, id)
	}
	return id, ok
}

// put keeps the id of a key committed to search_keys.
func (c *keyCache) put(key string, id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, id)
}

func (c *keyCache) putLocked(key string, id int32) {
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]int32, c.half)
	}
	c.cur[key] = id
	delete(c.asked, key)
}

// len returns how many keys the cache holds.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

// ask reports whether key, which the cache lacks, should be looked up now: it
// is not being looked up, and was not within keyLookupEvery. The caller then
// calls done when the look-up ends.
func (c *keyCache) ask(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[key] || now.Sub(c.asked[key]) < keyLookupEvery {
		return false
	}
	if len(c.asked) >= c.half {
		clear(c.asked) // bounded too: forgetting only allows an early look-up
	}
	c.pending[key], c.asked[key] = true, now
	return true
}

// done ends the look-up ask started.
func (c *keyCache) done(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, key)
}

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

// knownKey returns the id of a search key stored in search_keys when the
// store's cache holds it. For a key it lacks, the statement looks the key up
// itself, and knownKey looks that one key up in the background (at most once
// per keyLookupEvery), so the next statement that names it has its id.
func (s *Store) knownKey(key string) (any, bool) {
	if id, ok := s.keys.get(key); ok {
		return id, true
	}
	if s.keys.ask(key, time.Now()) {
		go s.lookUpKey(key)
	}
	return nil, false
}

// lookUpKey reads the id of key into the store's cache, when search_keys has
// it.
func (s *Store) lookUpKey(key string) {
	defer s.keys.done(key)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var id int32
	if s.pool.QueryRow(ctx, `SELECT id FROM search_keys WHERE key = $1`, key).Scan(&id) == nil {
		s.keys.put(key, id)
	}
}
