CREATE TABLE IF NOT EXISTS entities (
    key         TEXT PRIMARY KEY,
    ref         TEXT NOT NULL,
    uid         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    location_id TEXT NOT NULL DEFAULT '',
    managed_by  TEXT NOT NULL DEFAULT '',
    body        BLOB NOT NULL,
    created_pos INTEGER NOT NULL,
    updated_pos INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name);
CREATE INDEX IF NOT EXISTS entities_name ON entities(name);
CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id);

CREATE TABLE IF NOT EXISTS relations (
    origin     TEXT NOT NULL,
    source     TEXT NOT NULL,
    type       TEXT NOT NULL,
    ltype      TEXT NOT NULL,
    target     TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    PRIMARY KEY (origin, source, type, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_source ON relations(source, type, target);
CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target, source);

CREATE TABLE IF NOT EXISTS search (
    entity   TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT,
    original TEXT
);
CREATE INDEX IF NOT EXISTS search_key_value ON search(key, value, entity);
CREATE INDEX IF NOT EXISTS search_entity ON search(entity, key);

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
