package pgkit

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultMaxConns is the size of a pool when the caller names none.
const DefaultMaxConns = 8

// NewPool returns a pgxpool of at most maxConns connections (DefaultMaxConns
// when zero or less) to the server at url, a postgres:// URL or keyword/value
// string. It opens no connection; the first use does. pgxpool pings a
// connection that sat idle for more than a second before handing it out, so a
// server restart costs a failed ping per idle connection, not a failed query.
// Every statement is planned for its actual values (plan_cache_mode =
// force_custom_plan): the selectivity of a search key or value varies by orders
// of magnitude, and a generic plan picked for one is slow for another.
func NewPool(url string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgkit: parse PostgreSQL URL: %w", err)
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	cfg.MaxConns = int32(maxConns)
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("pgkit: %w", err)
	}
	return pool, nil
}
