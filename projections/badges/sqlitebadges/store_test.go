package sqlitebadges_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

func TestContract(t *testing.T) {
	badgetest.Run(t, func(t *testing.T) badgetest.Store {
		s, err := sqlitebadges.Open(filepath.Join(t.TempDir(), "badges.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestUpgradeKeepsVerdicts opens a file of the first layout, whose verdict
// rows held a copy of each verdict as JSON, and reads its verdicts through
// the layout that names their changes instead.
func TestUpgradeKeepsVerdicts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "badges.db")
	first, err := os.ReadFile("migrations/0001_badges.sql")
	if err != nil {
		t.Fatal(err)
	}
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{Migrations: fstest.MapFS{"migrations/0001_badges.sql": {Data: first}},
		MigrationGlob: "migrations/*.sql", VersionPrefix: "badges/"})
	if err != nil {
		t.Fatal(err)
	}
	c, badge := badgetest.UpgradeVerdict(t, 0)
	if _, err := w.Exec(`INSERT INTO badge_changes(position, time, event_id, type, policy, entity, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Position, c.Time, c.EventID, c.Type, c.Policy, c.Entity, c.Data); err != nil {
		t.Fatal(err)
	}
	var d event.BadgeChanged
	if err := json.Unmarshal([]byte(c.Data), &d); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`INSERT INTO badges(policy, entity, level, owner, digest, badge) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Policy, c.Entity, d.Level, strings.ToLower(d.Owner), badges.DigestOf(&d), badge); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	s, err := sqlitebadges.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	badgetest.CheckUpgraded(t, s, c, badge)
}
