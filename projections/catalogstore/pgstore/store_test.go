package pgstore_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// openStore opens a store on a fresh database of the test server.
func openStore(t testing.TB) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{})
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
