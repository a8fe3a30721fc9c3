package sqlitecatalog

import "sync"

// maxCachedResults bounds the result cache; past it the cache starts over.
const maxCachedResults = 4096

// resultCache keeps counts and facet answers for the read model as it is now.
// Every Apply that commits starts a new generation and drops the cache, so an
// answer is only ever served for the exact data it was computed from: a reader
// notes the generation before it queries and stores its answer under that
// generation, and only answers of the current generation are served.
type resultCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]any
}

func (c *resultCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *resultCache) get(gen uint64, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return nil, false
	}
	v, ok := c.entries[key]
	return v, ok
}

func (c *resultCache) put(gen uint64, key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedResults {
		c.entries = map[string]any{}
	}
	c.entries[key] = v
}

func (c *resultCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = nil
}
