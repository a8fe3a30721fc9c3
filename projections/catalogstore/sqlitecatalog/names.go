package sqlitecatalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// nameTriggers keep the names trigram index (migration 0002_name_search.sql)
// current: every insert or delete of a search row of a name key rewrites
// that entity's document from its search rows. The name keys are 1, 2 and 3,
// the ids migration 0003 gives metadata.name, metadata.title and
// spec.profile.displayname in search_keys. Created by Open, since a
// trigger's body holds semicolons the migration runner would split at.
var nameTriggers = []string{
	`CREATE TRIGGER IF NOT EXISTS search_names_insert AFTER INSERT ON search
WHEN new.kid IN (1, 2, 3) AND new.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = new.eid;
    INSERT INTO names(rowid, text) SELECT new.eid, group_concat(value, char(10)) FROM search
        WHERE eid = new.eid AND kid IN (1, 2, 3) AND value <> '';
END`,
	`CREATE TRIGGER IF NOT EXISTS search_names_delete AFTER DELETE ON search
WHEN old.kid IN (1, 2, 3) AND old.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = old.eid;
    INSERT INTO names(rowid, text) SELECT old.eid, group_concat(value, char(10)) FROM search
        WHERE eid = old.eid AND kid IN (1, 2, 3) AND value <> ''
        HAVING count(*) > 0;
END`,
}

// nameRebuild fills the names index from the search table in one pass, as
// the migration's backfill does.
const nameRebuild = `INSERT INTO names(rowid, text) SELECT eid, group_concat(value, char(10)) FROM search
    WHERE kid IN (1, 2, 3) AND value <> ''
    GROUP BY eid`

// ensureNameTriggers creates nameTriggers when missing. Missing triggers
// mean the index was left behind (a replay dropped them, or stopped before
// its end), so it is rebuilt from the search table first.
func ensureNameTriggers(ctx context.Context, s *Store) error {
	var n int
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger'
		AND name IN ('search_names_insert', 'search_names_delete')`).Scan(&n); err != nil {
		return fmt.Errorf("catalog store: names triggers: %w", err)
	}
	if n == len(nameTriggers) {
		return nil
	}
	stmts := append([]string{`DROP TRIGGER IF EXISTS search_names_insert`, `DROP TRIGGER IF EXISTS search_names_delete`,
		`DELETE FROM names`, nameRebuild}, nameTriggers...)
	for _, stmt := range stmts {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("catalog store: rebuild names index: %w", err)
		}
	}
	return nil
}

// createNameTriggers creates nameTriggers over a names index that is
// current (after a live bulk load, whose writer kept it: writeNames).
func createNameTriggers(ctx context.Context, s *Store) error {
	for _, stmt := range nameTriggers {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("catalog store: names triggers: %w", err)
		}
	}
	return nil
}

// nameKeyIDs are the search keys the names index holds, with the ids
// nameTriggers name them by (migration 0003): a document lists an entity's
// values of them in the order of these ids, then of the values, as the
// triggers' group_concat reads them from the search table's primary key.
var nameKeyIDs = map[string]int{"metadata.name": 1, "metadata.title": 2, "spec.profile.displayname": 3}

// nameDocs are the names index's documents of the entities whose search
// rows are rows, as nameTriggers would leave them: for each entity with a
// non-empty value of a name key, its rowid (the eid) and its values, one a
// line; in eid order, as rowid then text values of a multi-row insert.
func nameDocs(rows []catalogstore.SearchRecord) []any {
	type nameVal struct {
		kid   int
		value string
	}
	byEID := map[int64][]nameVal{}
	for _, r := range rows {
		if kid, ok := nameKeyIDs[r.Key]; ok && r.Value != "" {
			byEID[r.EID] = append(byEID[r.EID], nameVal{kid, r.Value})
		}
	}
	eids := make([]int64, 0, len(byEID))
	for eid := range byEID {
		eids = append(eids, eid)
	}
	slices.Sort(eids)
	out := make([]any, 0, 2*len(eids))
	for _, eid := range eids {
		vals := byEID[eid]
		slices.SortFunc(vals, func(a, b nameVal) int {
			if a.kid != b.kid {
				return cmp.Compare(a.kid, b.kid)
			}
			return strings.Compare(a.value, b.value)
		})
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(v.value)
		}
		out = append(out, eid, b.String())
	}
	return out
}

// dropNameTriggers stops keeping the names index by triggers for a bulk
// load: a replay's end rebuilds it in one pass (ensureNameTriggers) instead
// of once per name row, and a live bulk load's writer keeps it (nameDocs).
func dropNameTriggers(ctx context.Context, s *Store) error {
	for _, stmt := range []string{`DROP TRIGGER IF EXISTS search_names_insert`, `DROP TRIGGER IF EXISTS search_names_delete`} {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("catalog store: begin replay: %w", err)
		}
	}
	return nil
}
