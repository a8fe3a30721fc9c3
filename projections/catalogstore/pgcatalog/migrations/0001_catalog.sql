-- The catalog read model on PostgreSQL: the tables of the SQLite read model,
-- with every text that is compared or sorted in the "C" collation, so order is
-- byte order as in SQLite, and with positions per partition of the log.

-- entities: one row per entity. eid is Position*1024 + Partition of the event
-- that created the entity: unique, increasing within a partition and the same on
-- every replay, whatever the processes that fold the partitions.
CREATE TABLE IF NOT EXISTS entities (
    eid               bigint PRIMARY KEY,
    key               text COLLATE "C" NOT NULL,
    ref               text COLLATE "C" NOT NULL,
    uid               text COLLATE "C" NOT NULL,
    kind              text COLLATE "C" NOT NULL,
    namespace         text COLLATE "C" NOT NULL,
    name              text COLLATE "C" NOT NULL,
    hash              text COLLATE "C" NOT NULL,
    location_id       text COLLATE "C" NOT NULL DEFAULT '',
    managed_by        text COLLATE "C" NOT NULL DEFAULT '',
    body              bytea NOT NULL,
    updated_pos       bigint NOT NULL,
    updated_partition integer NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entities_key ON entities(key);
CREATE UNIQUE INDEX IF NOT EXISTS entities_uid ON entities(uid);
CREATE INDEX IF NOT EXISTS entities_kind_name ON entities(kind, name);
CREATE INDEX IF NOT EXISTS entities_kind_eid ON entities(kind, eid);
CREATE INDEX IF NOT EXISTS entities_namespace_eid ON entities(namespace, eid);
CREATE INDEX IF NOT EXISTS entities_location ON entities(location_id, managed_by);

-- relations: the relations each entity (origin) declares, both directions.
CREATE TABLE IF NOT EXISTS relations (
    origin     bigint NOT NULL,
    source     text COLLATE "C" NOT NULL,
    type       text COLLATE "C" NOT NULL,
    ltype      text COLLATE "C" NOT NULL,
    target     text COLLATE "C" NOT NULL,
    target_ref text COLLATE "C" NOT NULL,
    PRIMARY KEY (origin, source, type, target)
);
CREATE INDEX IF NOT EXISTS relations_source ON relations(source);
CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target, source);
CREATE STATISTICS IF NOT EXISTS relations_type_target_stats (mcv, dependencies) ON ltype, target FROM relations;

-- search: flattened lower-case keys and values of each entity. value is '' when
-- the original is longer than the search table keeps, and original is NULL when
-- it equals value.
CREATE TABLE IF NOT EXISTS search (
    eid      bigint NOT NULL,
    key      text COLLATE "C" NOT NULL,
    value    text COLLATE "C" NOT NULL,
    original text COLLATE "C",
    PRIMARY KEY (eid, key, value)
);
CREATE INDEX IF NOT EXISTS search_key_value ON search(key, value, eid);
-- Values are frequent under one key and rare under others (service is common as
-- spec.type only): statistics of key and value together let the planner see
-- how selective a filter condition is.
CREATE STATISTICS IF NOT EXISTS search_key_value_stats (mcv, dependencies) ON key, value FROM search;

-- locations: created is Position*1024 + Partition of the registration.
CREATE TABLE IF NOT EXISTS locations (
    id          text COLLATE "C" PRIMARY KEY,
    type        text COLLATE "C" NOT NULL,
    target      text COLLATE "C" NOT NULL,
    entity_key  text COLLATE "C" NOT NULL,
    created     bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS locations_target ON locations(type, target);
CREATE INDEX IF NOT EXISTS locations_entity ON locations(entity_key);

CREATE TABLE IF NOT EXISTS location_errors (
    location_id text COLLATE "C" NOT NULL,
    seq         integer NOT NULL,
    body        bytea NOT NULL,
    entity_key  text COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (location_id, seq)
);
CREATE INDEX IF NOT EXISTS location_errors_entity ON location_errors(entity_key);

-- positions: the last position applied in each partition of the log, written in
-- the transaction that applied it.
CREATE TABLE IF NOT EXISTS positions (
    name      text COLLATE "C" NOT NULL,
    partition integer NOT NULL,
    position  bigint NOT NULL,
    PRIMARY KEY (name, partition)
);
