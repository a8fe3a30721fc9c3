package sqlitecatalog_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// oldNameTriggers are the names index's triggers before migration 0005,
// which built each document from the entity's search rows of
// metadata.name (key 1) and the title keys.
var oldNameTriggers = []string{
	`CREATE TRIGGER search_names_insert AFTER INSERT ON search
WHEN new.kid IN (1, 2, 3) AND new.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = new.eid;
    INSERT INTO names(rowid, text) SELECT new.eid, group_concat(value, char(10)) FROM search
        WHERE eid = new.eid AND kid IN (1, 2, 3) AND value <> '';
END`,
	`CREATE TRIGGER search_names_delete AFTER DELETE ON search
WHEN old.kid IN (1, 2, 3) AND old.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = old.eid;
    INSERT INTO names(rowid, text) SELECT old.eid, group_concat(value, char(10)) FROM search
        WHERE eid = old.eid AND kid IN (1, 2, 3) AND value <> ''
        HAVING count(*) > 0;
END`,
}

// TestUpgradeDeletesTheRowsOfColumnKeys opens a read model in the shape it
// had before migration 0005 (search rows of kind and metadata.name, with
// their spellings, and the names index's triggers on them): after the
// upgrade its tables are byte for byte those of the same history folded
// afresh, names index included, and it answers the same, nothing folded
// again.
func TestUpgradeDeletesTheRowsOfColumnKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, s, storetest.History(t, 300, 7), 50)
	wantAnswers := storetest.Dump(t, s)
	s.Close()
	wantTables := storetest.SQLiteTables(t, path)

	db, err := sql.Open("sqlite", sqlitekit.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`DROP TRIGGER entities_names_insert`, `DROP TRIGGER entities_names_delete`,
		`DROP TRIGGER search_names_insert`, `DROP TRIGGER search_names_delete`,
		`INSERT INTO search_keys(key) VALUES ('kind')`,
		`INSERT INTO search(eid, kid, value, original, item) SELECT eid, (SELECT id FROM search_keys WHERE key = 'kind'), kind,
			NULLIF(json_extract(CAST(body AS TEXT), '$.kind'), kind), 0 FROM entities`,
		`INSERT INTO search(eid, kid, value, original, item) SELECT eid, 1, name, NULLIF(substr(ref, instr(ref, '/') + 1), name), 0 FROM entities`,
	}
	stmts = append(stmts, oldNameTriggers...)
	stmts = append(stmts, `DELETE FROM schema_migrations WHERE version LIKE '%0005_column_rows.sql'`)
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var kinds, originals int
	if err := db.QueryRow(`SELECT count(*), count(original) FROM search WHERE kid = (SELECT id FROM search_keys WHERE key = 'kind')`).Scan(&kinds, &originals); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if kinds < 100 || originals == 0 {
		t.Fatalf("the old shape holds %d kind rows, %d with a spelling of their own: the fixture changed", kinds, originals)
	}
	if storetest.SQLiteTables(t, path) == wantTables {
		t.Fatal("the old shape's tables are the new ones: the fixture changed")
	}

	s, err = sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := storetest.SQLiteTables(t, path); got != wantTables {
		t.Fatalf("tables after the upgrade differ from a fresh fold's: %s", storetest.FirstDiff(wantTables, got))
	}
	if got := storetest.Dump(t, s); got != wantAnswers {
		t.Fatalf("answers after the upgrade differ: %s", storetest.FirstDiff(wantAnswers, got))
	}
}
