package badgetest

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// sqliteTableQueries render every fact, fact source, verdict and change of
// the SQLite badge read model, one line per row, in a fixed order.
var sqliteTableQueries = []string{
	`SELECT entity || ' ' || source || ' ' || facts || ' ' || observed_at || ' ' || position FROM facts ORDER BY entity, source`,
	`SELECT source || ' ' || schema || ' ' || position FROM fact_sources ORDER BY source`,
	`SELECT policy || ' ' || entity || ' ' || level || ' ' || owner || ' ' || digest || ' ' || position FROM badges ORDER BY policy, entity`,
	`SELECT position || ' ' || event_id || ' ' || type || ' ' || data FROM badge_changes ORDER BY position`,
	`SELECT policy || ' ' || owner || ' ' || level || ' ' || count FROM badge_tally ORDER BY policy, owner, level`,
}

// SQLiteTables renders every fact, fact source, verdict and change of the
// SQLite badge read model in the file at path in a fixed order, for comparing
// two read models folded from the same log row by row. It reads the file on a
// read-only connection of its own and fails the test when it cannot.
func SQLiteTables(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqlitekit.DSN(abs, "busy_timeout(10000)", "query_only(ON)"))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range sqliteTableQueries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("dump %s: %s: %v", path, q, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				t.Fatalf("dump %s: %s: %v", path, q, err)
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("dump %s: %s: %v", path, q, err)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %s: %v", path, q, err)
		}
	}
	return b.String()
}
