-- The catalog rows of each entity over time, as the catalog read model stores
-- them, so the catalog at any instant is queried here directly (CatalogAt)
-- instead of being built first: the tables of the SQLite history (see its
-- schema), with the partition of every position. A row is kept once for the
-- span of versions that carry it, from the version that first has it to the
-- one that no longer has it (to_* NULL while it is open).
-- history_search: the flattened lower-case keys and values of an entity (ent).
CREATE TABLE IF NOT EXISTS history_search (
    ent            text COLLATE "C" NOT NULL,
    key            text COLLATE "C" NOT NULL,
    value          text COLLATE "C" NOT NULL,
    from_partition integer NOT NULL,
    from_position  bigint NOT NULL,
    to_partition   integer,
    to_position    bigint,
    from_time      bigint NOT NULL,
    to_time        bigint,
    original       text COLLATE "C",
    PRIMARY KEY (ent, key, value, from_partition, from_position)
);
-- history_relations: each relation once, by the entity that declares it (ent);
-- readers derive the reverse (from target back to ent, of type reverse).
CREATE TABLE IF NOT EXISTS history_relations (
    ent            text COLLATE "C" NOT NULL,
    ltype          text COLLATE "C" NOT NULL,
    target         text COLLATE "C" NOT NULL,
    from_partition integer NOT NULL,
    from_position  bigint NOT NULL,
    to_partition   integer,
    to_position    bigint,
    from_time      bigint NOT NULL,
    to_time        bigint,
    type           text COLLATE "C" NOT NULL,
    target_ref     text COLLATE "C" NOT NULL,
    reverse        text COLLATE "C" NOT NULL,
    lreverse       text COLLATE "C" NOT NULL,
    PRIMARY KEY (ent, ltype, target, from_partition, from_position)
);
-- The rows are built on demand (Store.KeepCatalogRows): history_positions
-- holds history-catalog-rows (partition 0) = 1 once they are kept for every
-- version; the secondary indexes only the catalog at an instant reads are
-- made then.
