package sqlitecatalog

import (
	"context"
	"fmt"
)

// nameTriggers keep the names trigram index (migration 0002_name_search.sql)
// current: every insert or delete of a search row of a name key rewrites
// that entity's document from its search rows. Created by Open, since a
// trigger's body holds semicolons the migration runner would split at.
var nameTriggers = []string{
	`CREATE TRIGGER IF NOT EXISTS search_names_insert AFTER INSERT ON search
WHEN new.key IN ('metadata.name', 'metadata.title', 'spec.profile.displayname') AND new.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = new.eid;
    INSERT INTO names(rowid, text) SELECT new.eid, group_concat(value, char(10)) FROM search
        WHERE eid = new.eid AND key IN ('metadata.name', 'metadata.title', 'spec.profile.displayname') AND value <> '';
END`,
	`CREATE TRIGGER IF NOT EXISTS search_names_delete AFTER DELETE ON search
WHEN old.key IN ('metadata.name', 'metadata.title', 'spec.profile.displayname') AND old.value <> ''
BEGIN
    DELETE FROM names WHERE rowid = old.eid;
    INSERT INTO names(rowid, text) SELECT old.eid, group_concat(value, char(10)) FROM search
        WHERE eid = old.eid AND key IN ('metadata.name', 'metadata.title', 'spec.profile.displayname') AND value <> ''
        HAVING count(*) > 0;
END`,
}

// ensureNameTriggers creates nameTriggers when missing.
func ensureNameTriggers(ctx context.Context, s *Store) error {
	for _, t := range nameTriggers {
		if _, err := s.write.ExecContext(ctx, t); err != nil {
			return fmt.Errorf("catalog store: create names trigger: %w", err)
		}
	}
	return nil
}
