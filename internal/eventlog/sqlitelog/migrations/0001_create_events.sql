-- The event log. position is the log position: AUTOINCREMENT keeps SQLite from ever
-- reusing a key, even the key of the last row. Optional CloudEvents attributes are
-- stored as '' when absent. time is the event time in Unix nanoseconds (UTC).
CREATE TABLE events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    source          TEXT    NOT NULL,
    specversion     TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    time            INTEGER NOT NULL,
    datacontenttype TEXT    NOT NULL DEFAULT '',
    dataschema      TEXT    NOT NULL DEFAULT '',
    actor           TEXT    NOT NULL DEFAULT '',
    commit_sha      TEXT    NOT NULL DEFAULT '',
    correlation_id  TEXT    NOT NULL DEFAULT '',
    data            BLOB    NOT NULL
);

-- One entity's history, in log order.
CREATE INDEX events_subject_position ON events (subject, position);

-- Events of given types, in log order.
CREATE INDEX events_type_position ON events (type, position);
