-- The history read model on PostgreSQL: the tables of the SQLite history, with
-- the partition of every position (the log is Kafka), text compared in the "C"
-- collation (byte order, as in SQLite) and times as Unix nanoseconds (as in
-- SQLite: timestamptz keeps only microseconds).

-- history_versions: every version of every entity, identified by the event that
-- made it (each event makes at most one version). to_* are NULL while current.
CREATE TABLE IF NOT EXISTS history_versions (
    from_partition integer NOT NULL,
    from_position  bigint NOT NULL,
    key            text COLLATE "C" NOT NULL,
    version        integer NOT NULL,
    ref            text COLLATE "C" NOT NULL,
    uid            text COLLATE "C" NOT NULL,
    removed        boolean NOT NULL,
    from_time      bigint NOT NULL,
    to_partition   integer,
    to_position    bigint,
    to_time        bigint,
    hash           text COLLATE "C" NOT NULL,
    event_id       text COLLATE "C" NOT NULL,
    event_type     text COLLATE "C" NOT NULL,
    actor          text COLLATE "C" NOT NULL,
    correlation_id text COLLATE "C" NOT NULL,
    location_id    text COLLATE "C" NOT NULL,
    managed_by     text COLLATE "C" NOT NULL,
    commit_sha     text COLLATE "C",
    commit_author  text,
    commit_email   text,
    commit_time    text,
    digest         text COLLATE "C" NOT NULL,
    body           bytea,
    PRIMARY KEY (from_partition, from_position)
);
-- The versions of one key in order; also the unique key that stops two
-- transactions from numbering the same version.
CREATE UNIQUE INDEX IF NOT EXISTS history_versions_key ON history_versions(key, version);
-- The entities valid at a position or a time, in key order (see the SQLite
-- schema): Current walks one of these and reads the heap only for the rows it keeps.
CREATE INDEX IF NOT EXISTS history_versions_at_position ON history_versions(key, from_partition, from_position, to_partition, to_position) WHERE NOT removed;
CREATE INDEX IF NOT EXISTS history_versions_at_time ON history_versions(key, from_time, to_time) WHERE NOT removed;

-- history_events: every applied event with its digest, in log order.
CREATE TABLE IF NOT EXISTS history_events (
    partition integer NOT NULL,
    position  bigint NOT NULL,
    event_id  text COLLATE "C" NOT NULL,
    type      text COLLATE "C" NOT NULL,
    subject   text COLLATE "C" NOT NULL,
    digest    text COLLATE "C" NOT NULL,
    PRIMARY KEY (partition, position)
);

-- history_locations: the registered locations and their generated Location entities.
CREATE TABLE IF NOT EXISTS history_locations (
    id         text COLLATE "C" PRIMARY KEY,
    entity_key text COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS history_positions (
    name      text NOT NULL,
    partition integer NOT NULL,
    position  bigint NOT NULL,
    PRIMARY KEY (name, partition)
);
