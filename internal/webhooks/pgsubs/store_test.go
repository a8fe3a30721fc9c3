package pgsubs_test

import (
	"context"
	"os"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webhooks/pgsubs"
	"backlot.dev/backlot/internal/webhooks/substest"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

func TestContract(t *testing.T) {
	substest.Run(t, substest.Features{StartPositions: true}, func(t *testing.T) (webhooks.Store, func() webhooks.Store) {
		url := pgtest.URL(t)
		open := func() webhooks.Store {
			pool, err := pgkit.NewPool(url, 4)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			s, err := pgsubs.New(context.Background(), pool)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	})
}

// TestADatabaseMigratedBeforeTheMoveKeepsItsSubscriptions: a database whose
// migration was recorded under the store's old folder (pgmigrations) opens,
// runs 0001 again without change, and keeps its subscriptions.
func TestADatabaseMigratedBeforeTheMoveKeepsItsSubscriptions(t *testing.T) {
	ctx := context.Background()
	pool, err := pgkit.NewPool(pgtest.URL(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ddl, err := os.ReadFile("migrations/0001_webhooks.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		string(ddl),
		`CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations(version) VALUES ('webhooks/pgmigrations/0001_webhooks.sql')`,
		`INSERT INTO webhook_subscriptions(id, url, filter, secret, created_at, created_by, start_positions)
		 VALUES ('old', 'https://hooks.example.com/old', '', 'a-secret-of-16-chars', now(), 'user:default/ada', '0:7')`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s, err := pgsubs.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Get(ctx, "old")
	if err != nil || sub.URL != "https://hooks.example.com/old" || sub.Start != "0:7" {
		t.Fatalf("the subscription stored before the move: %+v, %v", sub, err)
	}
}
