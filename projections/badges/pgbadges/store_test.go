package pgbadges_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/pgbadges"
	"backlot.dev/backlot/projections/storekit/pgkit"
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

// TestUpgradeKeepsVerdicts migrates a database of the first layout, whose
// verdict rows held a copy of each verdict as JSON, and reads its verdicts
// through the layout that names their changes instead.
func TestUpgradeKeepsVerdicts(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	first, err := os.ReadFile("migrations/0001_badges.sql")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgkit.NewPool(url, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pgkit.Migrate(ctx, pool, "badges", fstest.MapFS{"migrations/0001_badges.sql": {Data: first}}, "migrations/*.sql"); err != nil {
		t.Fatal(err)
	}
	c, badge := badgetest.UpgradeVerdict(t, 2)
	if _, err := pool.Exec(ctx, `INSERT INTO badge_changes(partition, position, time, event_id, type, policy, entity, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.Partition, c.Position, c.Time, c.EventID, c.Type, c.Policy, c.Entity, c.Data); err != nil {
		t.Fatal(err)
	}
	var d event.BadgeChanged
	if err := json.Unmarshal([]byte(c.Data), &d); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO badges(policy, entity, level, owner, digest, badge) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Policy, c.Entity, d.Level, strings.ToLower(d.Owner), badges.DigestOf(&d), badge); err != nil {
		t.Fatal(err)
	}
	s, err := pgbadges.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	badgetest.CheckUpgraded(t, s, c, badge)
}
