-- entities: one row per entity. eid is the log position that created the entity:
-- unique, increasing and the same on every replay, so new entities, their bodies
-- and their search and relation rows are appended at the end of their tables'
-- primary keys instead of landing on random pages.
CREATE TABLE IF NOT EXISTS entities (
    eid         INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    ref         TEXT NOT NULL,
    uid         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    location_id TEXT NOT NULL DEFAULT '',
    managed_by  TEXT NOT NULL DEFAULT '',
    body        BLOB NOT NULL,
    updated_pos INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entities_key ON entities(key);
CREATE UNIQUE INDEX IF NOT EXISTS entities_uid ON entities(uid);
CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name);
CREATE INDEX IF NOT EXISTS entities_kind_eid ON entities(kind, eid);
CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id, managed_by);

-- relations: the relations each entity (origin) declares, both directions.
CREATE TABLE IF NOT EXISTS relations (
    origin     INTEGER NOT NULL,
    source     TEXT NOT NULL,
    type       TEXT NOT NULL,
    ltype      TEXT NOT NULL,
    target     TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    PRIMARY KEY (origin, source, type, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_source ON relations(source);
CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target, source);

-- search: flattened lower-case keys and values of each entity. value is '' when
-- the original is longer than the search table keeps, and original is NULL when it
-- equals value.
CREATE TABLE IF NOT EXISTS search (
    eid      INTEGER NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    original TEXT,
    PRIMARY KEY (eid, key, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_key_value ON search(key, value, eid);

CREATE TABLE IF NOT EXISTS locations (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    target      TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    created_pos INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS locations_target ON locations(type, target);

CREATE TABLE IF NOT EXISTS location_errors (
    location_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    body        BLOB NOT NULL,
    entity_key  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (location_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS location_errors_entity ON location_errors(entity_key);

CREATE TABLE IF NOT EXISTS positions (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
