package pgcatalog

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
)

// maxCachedResults bounds the result cache; past it the cache starts over.
const maxCachedResults = 4096

// resultCache keeps counts and facet answers with the positions of the read
// model they were computed at. Every Apply that changes the read model moves a
// position in the same transaction, in whichever process it runs, so an answer
// is served only while the positions are still the ones it was computed at: a
// reader reads the positions, then looks up or computes its answer, and stores
// it under the positions it read before (the answer can only be newer).
type resultCache struct {
	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	token string
	value any
}

func (c *resultCache) get(token, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.token != token {
		return nil, false
	}
	return e.value, true
}

func (c *resultCache) put(token, key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedResults {
		c.entries = map[string]cached{}
	}
	c.entries[key] = cached{token: token, value: v}
}

// positionsToken reads the read model's positions as one string, the
// generation of the result cache.
func positionsToken(ctx context.Context, conn *pgx.Conn) (string, error) {
	var token *string
	err := conn.QueryRow(ctx, `SELECT string_agg(partition || ':' || position, ',' ORDER BY partition) FROM positions WHERE name = $1`,
		catalogstore.ProjectionName).Scan(&token)
	if err != nil {
		return "", fmt.Errorf("read positions: %w", err)
	}
	if token == nil {
		return "", nil
	}
	return *token, nil
}
