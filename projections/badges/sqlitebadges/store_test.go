package sqlitebadges_test

import (
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
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
