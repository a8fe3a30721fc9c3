package pgcatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// openStore opens a store on a fresh database of the test server.
func openStore(t testing.TB) *pgcatalog.Store {
	t.Helper()
	s, err := pgcatalog.Open(context.Background(), pgtest.URL(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresStoreContract runs the store contract suite against PostgreSQL,
// with the cases of a partitioned log.
func TestPostgresStoreContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) catalogstore.Store { return openStore(t) }, storetest.Features{Partitioned: true})
}

// The projector may drop the store's indexes during a backlog.
var _ projector.BulkLoader = (*pgcatalog.Store)(nil)

// TestPostgresLaggingCounts runs the lagging cache's cases against PostgreSQL.
func TestPostgresLaggingCounts(t *testing.T) {
	t.Parallel()
	storetest.RunLag(t, func(t *testing.T, opts catalogstore.LagOptions) storetest.LagStore {
		s, err := pgcatalog.Open(context.Background(), pgtest.URL(t), pgcatalog.Options{Lag: opts})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
