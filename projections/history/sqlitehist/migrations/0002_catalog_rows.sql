-- The catalog rows of each entity over time, as the catalog read model stores
-- them, so the catalog at any instant is queried here directly (CatalogAt)
-- instead of being built first. A row is kept once for the span of versions
-- that carry it, like a version: from the position (and time) of the version
-- that first has it to that of the version that no longer has it (NULL while
-- it is current). An edit writes only the rows it changes, so the history of
-- an entity edited ten times costs little more than its first version.
-- history_search: the flattened lower-case keys and values of an entity (ent,
-- its key).
CREATE TABLE IF NOT EXISTS history_search (
    ent           TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    from_position INTEGER NOT NULL,
    to_position   INTEGER,
    from_time     INTEGER NOT NULL,
    to_time       INTEGER,
    original      TEXT,
    PRIMARY KEY (ent, key, value, from_position)
) WITHOUT ROWID;
-- The entities with a value and the spans they have it, for filters: whether
-- a match is valid at an instant is read from the index (the entity, the rest
-- of the primary key, follows).
CREATE INDEX IF NOT EXISTS history_search_key_value ON history_search(key, value, from_position, to_position, from_time, to_time);

-- history_relations: the relations an entity (ent) declares, both directions.
CREATE TABLE IF NOT EXISTS history_relations (
    source        TEXT NOT NULL,
    ltype         TEXT NOT NULL,
    target        TEXT NOT NULL,
    ent           TEXT NOT NULL,
    from_position INTEGER NOT NULL,
    to_position   INTEGER,
    from_time     INTEGER NOT NULL,
    to_time       INTEGER,
    type          TEXT NOT NULL,
    target_ref    TEXT NOT NULL,
    PRIMARY KEY (source, ltype, target, ent, from_position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_relations_type_target ON history_relations(ltype, target);

-- The rows are built on demand (Store.KeepCatalogRows): history_positions
-- holds history-catalog-rows = 1 once they are kept for every version. The
-- indexes of history_versions that only the catalog at an instant reads
-- (history_versions_uid, history_versions_span) are made then too.
