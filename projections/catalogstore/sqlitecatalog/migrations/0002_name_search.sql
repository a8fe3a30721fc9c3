-- names: a trigram index over each entity's names and titles (metadata.name,
-- metadata.title, spec.profile.displayname), one document per entity (rowid =
-- eid) holding the lower-case values of those keys, one a line. The catalog's
-- search for a term of three characters or more reads its candidates here
-- instead of testing LIKE '%term%' on every name, then confirms each with the
-- search table, so answers stay those of the LIKE. Triggers on the search table
-- keep it current, including during bulk loads (a replay drops them and
-- rebuilds the index at its end); Open creates them (names.go), as the
-- migration runner splits statements at semicolons.
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(text, tokenize = 'trigram case_sensitive 1');

-- Backfill a read model built before this migration.
INSERT INTO names(rowid, text) SELECT eid, group_concat(value, char(10)) FROM search
    WHERE key IN ('metadata.name', 'metadata.title', 'spec.profile.displayname') AND value <> ''
    GROUP BY eid;

-- Every kind sorted by name (the catalog's kind=all) reads this index in order
-- and stops after a page instead of sorting every entity.
CREATE INDEX IF NOT EXISTS entities_name_key ON entities(name, key);
