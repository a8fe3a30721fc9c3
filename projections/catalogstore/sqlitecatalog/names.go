package sqlitecatalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// nameDoc is the names index's document of the entity of entities row e:
// its name, then its values of the title keys, one a line. The title keys
// are 2 and 3, the ids migration 0003 gives metadata.title and
// spec.profile.displayname in search_keys; a document lists their values in
// the order of the search table's primary key (kid, then value). The name
// has no search rows (catalogstore.ColumnKeys) and is never empty.
func nameDoc(e string) string {
	return e + `.name || COALESCE((SELECT char(10) || group_concat(t.value, char(10)) FROM search t
        WHERE t.eid = ` + e + `.eid AND t.kid IN (2, 3) AND t.value <> ''), '')`
}

// nameTriggerNames are the names of nameTriggers, in their order.
var nameTriggerNames = []string{"entities_names_insert", "entities_names_delete", "search_names_insert", "search_names_delete"}

// nameTriggers keep the names trigram index (migration 0002_name_search.sql)
// current: every insert or delete of an entities row, or of a search row of
// a title key, rewrites that entity's document (nameDoc). Created by Open,
// since a trigger's body holds semicolons the migration runner would split
// at.
var nameTriggers = []string{
	`CREATE TRIGGER IF NOT EXISTS entities_names_insert AFTER INSERT ON entities
BEGIN
    DELETE FROM names WHERE rowid = new.eid;
    INSERT INTO names(rowid, text) SELECT e.eid, ` + nameDoc("e") + ` FROM entities e WHERE e.eid = new.eid;
END`,
	`CREATE TRIGGER IF NOT EXISTS entities_names_delete AFTER DELETE ON entities
BEGIN
    DELETE FROM names WHERE rowid = old.eid;
END`,
	`CREATE TRIGGER IF NOT EXISTS search_names_insert AFTER INSERT ON search
WHEN new.kid IN (2, 3) AND new.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = new.eid;
    INSERT INTO names(rowid, text) SELECT e.eid, ` + nameDoc("e") + ` FROM entities e WHERE e.eid = new.eid;
END`,
	`CREATE TRIGGER IF NOT EXISTS search_names_delete AFTER DELETE ON search
WHEN old.kid IN (2, 3) AND old.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = old.eid;
    INSERT INTO names(rowid, text) SELECT e.eid, ` + nameDoc("e") + ` FROM entities e WHERE e.eid = old.eid;
END`,
}

// nameRebuild fills the names index from the entities and search tables in
// one pass.
var nameRebuild = `INSERT INTO names(rowid, text) SELECT e.eid, ` + nameDoc("e") + ` FROM entities e`

// dropNameTriggersStmts drop nameTriggers.
func dropNameTriggersStmts() []string {
	out := make([]string, len(nameTriggerNames))
	for i, n := range nameTriggerNames {
		out[i] = `DROP TRIGGER IF EXISTS ` + n
	}
	return out
}

// ensureNameTriggers creates nameTriggers when missing. Missing triggers
// mean the index was left behind (a replay dropped them, or stopped before
// its end), so it is rebuilt from the search table first.
func ensureNameTriggers(ctx context.Context, s *Store) error {
	var n int
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger'
		AND name IN ('`+strings.Join(nameTriggerNames, "', '")+`')`).Scan(&n); err != nil {
		return fmt.Errorf("catalog store: names triggers: %w", err)
	}
	if n == len(nameTriggers) {
		return nil
	}
	stmts := append(append(dropNameTriggersStmts(), `DELETE FROM names`, nameRebuild), nameTriggers...)
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

// titleKeyIDs are the search keys besides the name that the names index
// holds, with the ids nameDoc names them by (migration 0003): a document
// lists the entity's name, then its values of them in the order of these
// ids, then of the values, as nameDoc's group_concat reads them from the
// search table's primary key.
var titleKeyIDs = map[string]int{"metadata.title": 2, "spec.profile.displayname": 3}

// nameDocs are the names index's documents of the entities rows ents, whose
// search rows are rows, as nameTriggers would leave them (nameDoc): for
// each entity, its rowid (the eid) and its name and values of the title
// keys, one a line; in eid order, as rowid then text values of a multi-row
// insert.
func nameDocs(ents []catalogstore.EntityRecord, rows []catalogstore.SearchRecord) []any {
	type titleVal struct {
		kid   int
		value string
	}
	titles := map[int64][]titleVal{}
	for _, r := range rows {
		if kid, ok := titleKeyIDs[r.Key]; ok && r.Value != "" {
			titles[r.EID] = append(titles[r.EID], titleVal{kid, r.Value})
		}
	}
	order := make([]int, len(ents))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ents[a].EID, ents[b].EID) })
	out := make([]any, 0, 2*len(ents))
	for _, i := range order {
		e := &ents[i]
		vals := titles[e.EID]
		slices.SortFunc(vals, func(a, b titleVal) int {
			if a.kid != b.kid {
				return cmp.Compare(a.kid, b.kid)
			}
			return strings.Compare(a.value, b.value)
		})
		var b strings.Builder
		b.WriteString(e.Name)
		for _, v := range vals {
			b.WriteByte('\n')
			b.WriteString(v.value)
		}
		out = append(out, e.EID, b.String())
	}
	return out
}

// dropNameTriggers stops keeping the names index by triggers for a bulk
// load: a replay's end rebuilds it in one pass (ensureNameTriggers) instead
// of once per name row, and a live bulk load's writer keeps it (nameDocs).
func dropNameTriggers(ctx context.Context, s *Store) error {
	for _, stmt := range dropNameTriggersStmts() {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("catalog store: begin replay: %w", err)
		}
	}
	return nil
}
