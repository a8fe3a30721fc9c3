package pgbadges_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/pgbadges"
)

func TestContract(t *testing.T) {
	badgetest.Run(t, func(t *testing.T) badgetest.Store {
		s, err := pgbadges.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
