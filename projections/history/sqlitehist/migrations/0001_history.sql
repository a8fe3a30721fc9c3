-- history_versions: every version of every entity. The embedded log has one
-- partition, so a version is identified by the position of the event that made
-- it (each event makes at most one version): the rowid, so rows are appended in
-- log order. Times are Unix nanoseconds; to_* are NULL while the version is current.
CREATE TABLE IF NOT EXISTS history_versions (
    from_position  INTEGER PRIMARY KEY,
    key            TEXT NOT NULL,
    version        INTEGER NOT NULL,
    ref            TEXT NOT NULL,
    uid            TEXT NOT NULL,
    removed        INTEGER NOT NULL,
    from_time      INTEGER NOT NULL,
    to_position    INTEGER,
    to_time        INTEGER,
    hash           TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    actor          TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    location_id    TEXT NOT NULL,
    managed_by     TEXT NOT NULL,
    commit_sha     TEXT,
    commit_author  TEXT,
    commit_email   TEXT,
    commit_time    TEXT,
    digest         TEXT NOT NULL,
    body           BLOB
);
-- The versions of one key in order.
CREATE UNIQUE INDEX IF NOT EXISTS history_versions_key ON history_versions(key, version);
-- The entities valid at a position or a time, in key order: Current walks one
-- of these in key order and reads a body only for the version it keeps, so a
-- page of the catalog as of any instant reads about versions-per-key index
-- entries per entity, and never a removal.
CREATE INDEX IF NOT EXISTS history_versions_at_position ON history_versions(key, from_position, to_position) WHERE removed = 0;
CREATE INDEX IF NOT EXISTS history_versions_at_time ON history_versions(key, from_time, to_time) WHERE removed = 0;

-- history_events: every applied event with its digest, in log order.
CREATE TABLE IF NOT EXISTS history_events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    type     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    digest   TEXT NOT NULL
);

-- history_locations: the registered locations and their generated Location entities.
CREATE TABLE IF NOT EXISTS history_locations (
    id         TEXT PRIMARY KEY,
    entity_key TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS history_positions (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
