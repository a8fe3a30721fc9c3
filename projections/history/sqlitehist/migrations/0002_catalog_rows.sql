-- The catalog rows of each version, as the catalog read model stores them, so
-- the catalog at any instant is queried here directly (CatalogAt) instead of
-- being built first. pos is the version's from_position; a removal has none.
-- history_search: the version's flattened lower-case keys and values.
CREATE TABLE IF NOT EXISTS history_search (
    pos      INTEGER NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    original TEXT,
    PRIMARY KEY (pos, key, value)
) WITHOUT ROWID;
-- original is in the index so that facets read no row.
CREATE INDEX IF NOT EXISTS history_search_key_value ON history_search(key, value, pos, original);

-- history_relations: the relations the version declares, both directions.
CREATE TABLE IF NOT EXISTS history_relations (
    pos        INTEGER NOT NULL,
    source     TEXT NOT NULL,
    type       TEXT NOT NULL,
    ltype      TEXT NOT NULL,
    target     TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    PRIMARY KEY (pos, source, type, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_relations_source ON history_relations(source, pos);
CREATE INDEX IF NOT EXISTS history_relations_type_target ON history_relations(ltype, target, pos);

-- An entity by uid at an instant.
CREATE INDEX IF NOT EXISTS history_versions_uid ON history_versions(uid) WHERE removed = 0;

-- history-catalog-rows records the position the history had applied when
-- these tables were added: versions up to it have no rows here, so only a
-- history that recorded 0 (kept them from its first event, or rebuilt since)
-- answers the catalog at an instant directly.
INSERT OR IGNORE INTO history_positions(name, position)
    VALUES ('history-catalog-rows', COALESCE((SELECT position FROM history_positions WHERE name = 'history'), 0));

-- Whether a version is valid at an instant, and its key, without reading its
-- row (and body): what counts, facets and filters of the catalog at an
-- instant test for each candidate version.
CREATE INDEX IF NOT EXISTS history_versions_span ON history_versions(from_position, removed, to_position, from_time, to_time, key);
