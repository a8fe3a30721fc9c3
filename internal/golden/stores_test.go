package golden

import (
	"context"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/badges/pgbadges"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history/pghist"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// readModels are fresh read models of one adapter, with what replays into them.
type readModels struct {
	Readers
	targets map[string]Applier
}

// openSQLite opens the three read models on SQLite files in a test folder:
// sqlitecatalog.Open, sqlitehist.Open and sqlitebadges.Open.
func openSQLite(t testing.TB, dir string) readModels {
	t.Helper()
	cat, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	bdg, err := sqlitebadges.Open(filepath.Join(dir, "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdg.Close() })
	return readModels{
		Readers: Readers{Catalog: cat, History: hist, Badges: bdg},
		targets: map[string]Applier{"catalog": cat, "history": hist, "badges": bdg},
	}
}

// openPostgres opens the three read models in a fresh database of the test
// server (BACKLOT_TEST_POSTGRES_URL, or a throwaway cluster): pgcatalog.Open,
// pghist.Open and pgbadges.Open.
func openPostgres(t testing.TB) readModels {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	cat, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	hist, err := pghist.Open(ctx, url, pghist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	bdg, err := pgbadges.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdg.Close() })
	return readModels{
		Readers: Readers{Catalog: cat, History: hist, Badges: bdg},
		targets: map[string]Applier{"catalog": cat, "history": hist, "badges": bdg},
	}
}
