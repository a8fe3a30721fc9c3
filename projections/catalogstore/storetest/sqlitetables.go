package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// sqliteTableQueries list every table of the SQLite catalog read model in a
// stable order.
var sqliteTableQueries = []struct{ name, sql string }{
	{"entities", `SELECT key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos FROM entities ORDER BY key`},
	{"relations", `SELECT origin, type, target, target_ref, reverse FROM relations ORDER BY origin, type, target, reverse`},
	{"search", `SELECT s.eid, k.key, s.value, s.original, s.item FROM search s JOIN search_keys k ON k.id = s.kid ORDER BY s.eid, k.key, s.value`},
	{"names", `SELECT rowid, text FROM names ORDER BY rowid`},
	{"locations", `SELECT id, type, target, entity_key, created_pos FROM locations ORDER BY id`},
	{"location_errors", `SELECT location_id, seq, body, entity_key FROM location_errors ORDER BY location_id, seq`},
	{"positions", `SELECT name, position FROM positions ORDER BY name`},
}

// OpenSQLiteFile opens a SQLite store in a temporary folder of the test,
// closed at cleanup, and returns it with the path of its file, which
// SQLiteTables reads.
func OpenSQLiteFile(t testing.TB) (*sqlitecatalog.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// SQLiteTables renders every row of every table of the SQLite catalog read
// model in the file at path (search rows included) in a stable text form, so
// two read models can be compared byte for byte below their answers. It reads
// the file on a read-only connection of its own, so the store that writes it
// may stay open; it fails the test when the file cannot be read.
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
		fmt.Fprintf(&b, "## %s\n", q.name)
		if err := dumpRows(context.Background(), db, q.sql, &b); err != nil {
			t.Fatalf("dump table %s of %s: %v", q.name, path, err)
		}
	}
	return b.String()
}

func dumpRows(ctx context.Context, db *sql.DB, q string, w io.Writer) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			if i > 0 {
				io.WriteString(w, "\t")
			}
			switch t := v.(type) {
			case nil:
				io.WriteString(w, "NULL")
			case []byte:
				fmt.Fprintf(w, "%q", t)
			default:
				fmt.Fprintf(w, "%q", fmt.Sprint(t))
			}
		}
		io.WriteString(w, "\n")
	}
	return rows.Err()
}

// WriteItemKeysAsRows rewrites the search rows of the SQLite catalog read
// model in the file at path as a store wrote them before migration
// 0004_item_rows.sql: each list item's key a row of its own
// (metadata.tags.java=true beside metadata.tags=java), none marked item
// (catalogstore.ExpandItems). Readers must answer the same from either
// layout, and from a file holding both. The store that wrote the file must
// not write again.
func WriteItemKeysAsRows(t testing.TB, path string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqlitekit.DSN(abs, "busy_timeout(10000)"))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`INSERT OR IGNORE INTO search_keys(key) SELECT DISTINCT k.key || '.' || s.value FROM search s JOIN search_keys k ON k.id = s.kid WHERE s.item`,
		`INSERT OR IGNORE INTO search(eid, kid, value, original, item) SELECT s.eid, k2.id, '` + catalogstore.ItemValue + `', NULL, 0
			FROM search s JOIN search_keys k ON k.id = s.kid JOIN search_keys k2 ON k2.key = k.key || '.' || s.value WHERE s.item`,
		`UPDATE search SET item = 0 WHERE item`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}
